import { describe, expect, it } from 'vitest';
import type { InboundEvent } from '#lib/domain/message.ts';
import { lanesOf } from '#lib/http/ingest.ts';

/** A WhatsApp Cloud text message from `from`, recorded under `contactKey` (and `aliasKey`, when given). */
function whatsappText(id: string, contactKey: string, from: string, aliasKey?: string): InboundEvent {
  return {
    type: 'message',
    message: {
      provider: 'meta',
      providerMessageId: id,
      channel: 'whatsapp',
      kind: 'message',
      contactKey,
      from,
      to: '+48221234567',
      text: 'Dzień dobry',
      media: [],
      ...(aliasKey ? { aliasKey } : {}),
    },
  };
}

/** A WhatsApp Cloud text message from `number`, with the user's BSUID beside it when given. */
function whatsappMessage(id: string, number: string, bsuid?: string): InboundEvent {
  return whatsappText(id, `phone:+${number}`, `+${number}`, bsuid ? `whatsapp:${bsuid}` : undefined);
}

/** A WhatsApp Cloud text message from a user known by their BSUID alone (a username, no number). */
function bsuidOnlyMessage(id: string, bsuid: string): InboundEvent {
  return whatsappText(id, `whatsapp:${bsuid}`, bsuid);
}

/** Meta's change of a user's number or BSUID, as the webhook reads it. */
function metaAlias(
  change: Omit<Extract<InboundEvent, { type: 'alias' }>['change'], 'provider'>,
): InboundEvent {
  return { type: 'alias', change: { provider: 'meta', ...change } };
}

describe('lanesOf', () => {
  it('should put a changed number (user_changed_number) in one lane with messages from the number left and the new one', () => {
    // Prepare: Meta batches a message from the old number, the change, and one from the new
    // number without a BSUID (a webhook from before Meta added them)
    const change = metaAlias({
      aliasKey: 'whatsapp:PL.88881208655302741918',
      contactKey: 'phone:+48601234999',
      address: '+48601234999',
      movedFrom: ['phone:+48601234567', 'whatsapp:PL.13491208655302741918'],
    });
    const events = [
      whatsappMessage('wamid.1', '48601234567', 'PL.13491208655302741918'),
      change,
      whatsappMessage('wamid.2', '48601234999'),
    ];

    // Act
    const lanes = lanesOf(events);

    // Assess: one after the other, in the provider's order
    expect(lanes).toEqual([events]);
  });

  it('should put a changed BSUID (user_changed_user_id) in one lane with messages under the old id and the new one', () => {
    // Prepare: Meta batches a message under the old BSUID alone, the change, and one under the
    // new BSUID alone. The change reads the old id's contact (the conversation open there, to
    // answer at the new id, and the contact it links the new id to): recorded beside the first
    // message, it could read that contact before the message opened it, link nothing, and leave
    // the second message a contact, a conversation and an ack of its own.
    const change = metaAlias({
      aliasKey: 'whatsapp:PL.99991208655302741918',
      previousKey: 'whatsapp:PL.13491208655302741918',
      address: 'PL.99991208655302741918',
    });
    const events = [
      bsuidOnlyMessage('wamid.1', 'PL.13491208655302741918'),
      change,
      bsuidOnlyMessage('wamid.2', 'PL.99991208655302741918'),
    ];

    // Act
    const lanes = lanesOf(events);

    // Assess: one after the other, in the provider's order
    expect(lanes).toEqual([events]);
  });
});
