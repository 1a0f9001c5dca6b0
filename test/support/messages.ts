import type { Message } from '#lib/domain/message.ts';

/** One customer SMS as stored, to +48 22 123 45 67 from +48 601 234 567, for the pure domain's tests. */
export function inboundSms(id: string, createdAt: string, overrides: Partial<Message> = {}): Message {
  return {
    id,
    conversationId: 'conv_1',
    direction: 'inbound',
    kind: 'message',
    channel: 'sms',
    provider: 'twilio',
    providerMessageId: `SM${id}`,
    from: '+48601234567',
    to: '+48221234567',
    text: 'Dzień dobry',
    media: [],
    createdAt,
    contactKey: 'phone:+48601234567',
    ...overrides,
  };
}
