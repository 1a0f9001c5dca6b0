import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phoneContactKey } from '#lib/domain/contact.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { fuzzRuns, fuzzTimeout } from '#test/support/fuzz.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// Customers writing (each message delivered up to three times), agents replying, resolving and
// reopening, the worker and the sweeper, all interleaved at random in concurrent waves. Once
// everything settles: every message stored once in one conversation, at most one open
// conversation per customer, no ack or reply sent twice, nothing left pending, and every
// stored message announced.

type Op =
  | { kind: 'message'; contact: number; copies: number }
  | { kind: 'reply' | 'resolve' | 'reopen'; contact: number }
  | { kind: 'drain' }
  | { kind: 'sweep' };

const CONTACTS = 3;
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('message' as const),
      contact: fc.nat(CONTACTS - 1),
      copies: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reply' as const), contact: fc.nat(CONTACTS - 1) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('resolve' as const), contact: fc.nat(CONTACTS - 1) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('reopen' as const), contact: fc.nat(CONTACTS - 1) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('drain' as const, 'sweep' as const) }) },
);

describe('customers, agents, the worker and the sweeper interleaved', {
  timeout: fuzzTimeout(300_000),
}, () => {
  let sb: TestSwitchboard;
  let run = 0;

  beforeAll(async () => {
    sb = await startTestSwitchboard({ env: { API_REQUESTS_PER_MINUTE: '100000' } });
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('should keep every invariant whatever the order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 6 }),
        async (waves) => {
          // Prepare: this run's own customers
          run++;
          const phone = (contact: number) =>
            `+48607${String(run).padStart(3, '0')}${String(contact).padStart(3, '0')}`;
          const keys = Array.from({ length: CONTACTS }, (_, contact) => phoneContactKey(phone(contact)));
          let sent = 0;
          const replies: string[] = [];
          const perform = async (step: Op): Promise<void> => {
            if (step.kind === 'message') {
              const sid = `SM${run.toString(16).padStart(4, '0')}${(sent++).toString(16).padStart(28, '0')}`;
              const form = {
                MessageSid: sid,
                SmsSid: sid,
                From: phone(step.contact),
                Body: `Wiadomość ${sid}`,
              };
              await Promise.all(Array.from({ length: step.copies }, () => sb.postSms(form)));
              return;
            }
            if (step.kind === 'drain') return void (await sb.drain());
            if (step.kind === 'sweep') return void (await sweep(sb.runtime.sweepDeps));
            const contact = await sb.runtime.store.getContact(keys[step.contact] as string);
            const open = contact?.openConversationId;
            const last = contact?.conversationIds.at(-1);
            if (step.kind === 'reply' && open) {
              const response = await sb.act(`/conversations/${open}/replies`, {
                text: `Odpowiedź ${replies.length}`,
              });
              if (response.status === 201)
                replies.push(((await response.json()) as { message: { id: string } }).message.id);
            }
            if (step.kind === 'resolve' && open) await sb.act(`/conversations/${open}/resolve`, {});
            if (step.kind === 'reopen' && last) await sb.act(`/conversations/${last}/reopen`, {});
          };

          // Act: each wave at once, the waves one after the other; then everything settles
          for (const wave of waves) {
            const results = await Promise.allSettled(wave.map(perform));
            for (const result of results) if (result.status === 'rejected') throw result.reason;
          }
          await sb.drain();
          sb.clock.advance(sb.config.ack.graceMs + 1_000);
          await sweep(sb.runtime.sweepDeps);
          await sb.drain();

          // Assess
          const contacts = await Promise.all(keys.map((key) => sb.runtime.store.getContact(key)));
          const ids = [...new Set(contacts.flatMap((contact) => contact?.conversationIds ?? []))];
          const conversations = (
            await Promise.all(ids.map((id) => sb.runtime.store.getConversation(id)))
          ).filter((conversation) => conversation !== null);
          const messages = (
            await Promise.all(conversations.map((c) => sb.runtime.store.listMessages(c.id)))
          ).flat();
          // Every customer message once, in one conversation.
          const inbound = messages.filter((message) => message.direction === 'inbound');
          expect(new Set(inbound.map((message) => message.providerMessageId)).size).toBe(inbound.length);
          expect(inbound).toHaveLength(sent);
          // At most one open conversation per customer, and the contact points to it.
          for (const [index, key] of keys.entries()) {
            const open = conversations.filter((c) => c.contact.key === key && c.status === 'open');
            expect(open.length).toBeLessThanOrEqual(1);
            if (open[0]) expect(contacts[index]?.openConversationId).toBe(open[0].id);
          }
          // Nothing left pending, and no automatic message or reply went out twice.
          for (const conversation of conversations) {
            expect(['pending', 'sending']).not.toContain(conversation.ack?.state);
            expect(conversation.outbox).toEqual([]);
          }
          const outbox = (await sb.outbox()).filter((entry) =>
            keys.some((key) => key.endsWith(entry.to ?? '')),
          );
          const sends = outbox.map((entry) => entry.idempotencyKey);
          expect(new Set(sends).size).toBe(sends.length);
          for (const reply of replies) expect(messages.filter((m) => m.id === reply)).toHaveLength(1);
          // Every stored customer message was announced.
          const announced = new Set(
            (await sb.events()).filter((e) => e.type === 'message.received').map((e) => e.data.messageId),
          );
          for (const message of inbound) expect(announced).toContain(message.id);
        },
      ),
      fuzzRuns(25),
    );
  });
});
