import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '#lib/runtime/runtime.ts';
import { TestClock } from '#test/support/clock.ts';
import { drainWith, headerOf, mailgunMail, sesRuntime } from '#test/support/email.ts';
import { type FakeSes, startFakeSes } from '#test/support/fake-ses.ts';
import { signMailgun, TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, TEST_API_TOKEN, type TestSwitchboard } from '#test/support/switchboard.ts';

// Where the customer's "Reply" to our mail goes. Acks and agents' replies come from
// SES_FROM_ADDRESS (anna@sklep.example), while mail reaches us at the receiving domain
// (the stack's mailDomain, Mailgun's route: anna@mg.sklep.example), as docs/deploy.md's first
// deploy sets them. Found by a walk through a customer's email day at stop 33: our mail named no
// Reply-To, so the customer's answer to the ack or to the agent went to the sending address,
// a mailbox no route brings to Switchboard: never recorded, never acknowledged, never waited on.

describe('the address a customer’s reply to our mail goes to', () => {
  let sb: TestSwitchboard;
  let ses: FakeSes;
  let http: Runtime;

  afterEach(async () => {
    await ses?.close();
    await sb?.stop();
  });

  async function mailed(recipient: string): Promise<void> {
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW) });
    ses = await startFakeSes();
    http = sesRuntime(sb, ses);
    const form = mailgunMail({
      from: 'Zofia Wójcik <zofia.wojcik@poczta.example.pl>',
      messageId: 'q-1@poczta.example.pl',
    });
    form.set('recipient', recipient);
    expect(
      (await http.app.request('/webhooks/email/mailgun', { method: 'POST', body: signMailgun(form) })).status,
    ).toBe(200);
    await drainWith(sb, http);
  }

  async function agentReplies(): Promise<void> {
    const { id } = await sb.onlyOpenConversation();
    const response = await http.app.request(`/api/conversations/${id}/replies`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_API_TOKEN}`,
        'content-type': 'application/json',
        'idempotency-key': 'agent-reply-1',
      },
      body: JSON.stringify({ text: 'Faktura jest w załączniku, pozdrawiam.' }),
    });
    expect(response.status).toBe(201);
  }

  it('should ask for the customer’s reply at the address they wrote to, on the ack and on an agent’s answer', async () => {
    // Act
    await mailed('anna@mg.sklep.example');
    await agentReplies();

    // Assess
    const sent = ses.requests.map((request) => request.rawMime);
    expect(sent).toHaveLength(2);
    for (const mail of sent) {
      expect(headerOf(mail, 'From')).toMatch(/<anna@sklep\.example>$/);
      expect(headerOf(mail, 'Reply-To')).toMatch(/<anna@mg\.sklep\.example>$/);
    }
  });

  it('should name no Reply-To when the customer wrote to the address we send from', async () => {
    // Act
    await mailed('anna@sklep.example');
    await agentReplies();

    // Assess
    const sent = ses.requests.map((request) => request.rawMime);
    expect(sent).toHaveLength(2);
    for (const mail of sent) expect(headerOf(mail, 'Reply-To')).toBeUndefined();
  });
});
