import { afterEach, describe, expect, it } from 'vitest';
import { TestClock } from '#test/support/clock.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Found by the thanks-edges review: after our answer, "Dziękuję\n--\nProszę o zwrot pieniędzy"
// lost its request to the signature cut (an SMS has no signature block) and "Dzięki 😡" lost its
// face to the fold: both were taken for thanks and resolved the conversation, out of the agents'
// open list, with the customer's request or anger unread.

const MOBILE = '+48601234567';

describe('thanks at their edges', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  /** Wednesday 10:00 the customer asks; 10:15 the agent answers and leaves it open. */
  async function answered(): Promise<string> {
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const { id } = await sb.onlyOpenConversation();
    sb.clock.set('2026-11-25T10:15:00+01:00');
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Wyszła dziś rano.' })).status).toBe(201);
    return id;
  }

  it.each(['Dziękuję\n--\nProszę o zwrot pieniędzy', 'Dzięki 😡', 'Thanks 🙄', 'dzięki... 😤'])(
    'should keep %j open for a person, its text whole',
    async (body) => {
      // Prepare
      const id = await answered();

      // Act
      sb.clock.set('2026-11-25T10:40:00+01:00');
      await sb.postSms({ From: MOBILE, Body: body });
      await sb.drain();

      // Assess: not resolved by itself; the agent reads all the customer wrote
      const shown = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
        conversation: Record<string, unknown>;
        messages: Array<{ kind: string; direction: string; text: string }>;
      };
      expect(shown.conversation).toMatchObject({ status: 'open', awaiting: 'reply' });
      expect(shown.messages.filter((m) => m.direction === 'inbound').map((m) => m.text)).toEqual([
        'Dzień dobry, gdzie jest moja paczka?',
        body,
      ]);
      expect((await sb.events()).filter((e) => e.type === 'conversation.resolved')).toEqual([]);
    },
  );

  it('should still resolve the conversation by itself on thanks with a warm face', async () => {
    // Prepare
    const id = await answered();

    // Act
    sb.clock.set('2026-11-25T10:40:00+01:00');
    await sb.postSms({ From: MOBILE, Body: 'Dziękuję 🙏😊' });
    await sb.drain();

    // Assess
    expect((await sb.runtime.store.getConversation(id))?.status).toBe('resolved');
  });
});
