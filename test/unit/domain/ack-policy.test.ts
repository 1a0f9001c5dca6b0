import { describe, expect, it } from 'vitest';
import { type AckPolicyInput, ackSpokenOnly, noAckReason, voiceSmsAllowed } from '#lib/domain/ack-policy.ts';
import type { Contact } from '#lib/domain/contact.ts';

const NOW = new Date('2026-11-25T12:00:00Z');
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

const contact = (overrides: Partial<Contact> = {}): Contact => ({
  key: 'phone:+48601234567',
  channels: ['sms'],
  openConversationId: 'conv_a',
  conversationIds: ['conv_a'],
  optedOut: false,
  createdAt: minutesAgo(1000),
  updatedAt: minutesAgo(1000),
  ...overrides,
});

const input = (overrides: Partial<AckPolicyInput> = {}): AckPolicyInput => ({
  contact: contact(),
  message: { channel: 'sms', kind: 'message' },
  canSendOn: true,
  conversation: { id: 'conv_a', lastReplyAt: null },
  now: NOW,
  settings: { quietMinutesAfterReply: 10, minutesBetweenAcks: 60 },
  ...overrides,
});

describe('the acknowledgement policy', () => {
  it.each<[string, Partial<AckPolicyInput>, string | null]>([
    ['a first message from a new contact', { contact: null, conversation: null }, null],
    ['a message on a known conversation', {}, null],
    [
      'an auto-reply or bulk mail (the channel says so)',
      { message: { channel: 'email', kind: 'message', noAckReason: 'auto-submitted' } },
      'auto-submitted',
    ],
    [
      'a STOP keyword',
      { message: { channel: 'sms', kind: 'message', noAckReason: 'keyword:stop' } },
      'keyword:stop',
    ],
    ['an opted-out contact', { contact: contact({ optedOut: true }) }, 'opted-out'],
    ['a channel we cannot send on', { canSendOn: false }, 'channel-cannot-send'],
    [
      'a message 5 minutes after an agent replied',
      { conversation: { id: 'conv_a', lastReplyAt: minutesAgo(5) } },
      'recently-answered',
    ],
    [
      'a message 30 minutes after an agent replied',
      { conversation: { id: 'conv_a', lastReplyAt: minutesAgo(30) } },
      null,
    ],
    [
      'a contact acknowledged 20 minutes ago on another conversation',
      { contact: contact({ lastAckAt: minutesAgo(20), lastAckConversationId: 'conv_old' }) },
      'recently-acknowledged',
    ],
    [
      'a contact acknowledged 2 hours ago on another conversation',
      { contact: contact({ lastAckAt: minutesAgo(120), lastAckConversationId: 'conv_old' }) },
      null,
    ],
    [
      'a contact acknowledged on this same conversation (a new episode after a reply)',
      { contact: contact({ lastAckAt: minutesAgo(20), lastAckConversationId: 'conv_a' }) },
      null,
    ],
  ])('should decide %s → %s', (_case, overrides, expected) => {
    expect(noAckReason(input(overrides))).toBe(expected);
  });

  it('should put the provider\u2019s own reason before anything else', () => {
    // Act
    const reason = noAckReason(
      input({
        contact: contact({ optedOut: true }),
        message: { channel: 'sms', kind: 'message', noAckReason: 'keyword:stop' },
      }),
    );

    // Assess
    expect(reason).toBe('keyword:stop');
  });

  // Found at stop 24: a caller who had once texted STOP heard the promise in the greeting, but
  // the ack was recorded skipped (opted-out), and so the promise was never measured.
  it.each<[string, Partial<AckPolicyInput>, string | null, boolean]>([
    ['a call from a mobile that takes the SMS', {}, null, false],
    ['a call from a number that takes no SMS (a landline)', { canSendOn: false }, null, true],
    ['a call from a contact who opted out', { contact: contact({ optedOut: true }) }, null, true],
    [
      'a call 5 minutes after an agent replied',
      { conversation: { id: 'conv_a', lastReplyAt: minutesAgo(5) } },
      'recently-answered',
      false,
    ],
    // Found at stop 24 too: a caller who opted out, or on a landline, just answered or
    // acknowledged was skipped for the quiet time, and their late notice was texted.
    [
      'a call from a contact who opted out, 5 minutes after an agent replied',
      { contact: contact({ optedOut: true }), conversation: { id: 'conv_a', lastReplyAt: minutesAgo(5) } },
      null,
      true,
    ],
    [
      'a call from a landline acknowledged 20 minutes ago on another conversation',
      {
        canSendOn: false,
        contact: contact({ lastAckAt: minutesAgo(20), lastAckConversationId: 'conv_old' }),
      },
      null,
      true,
    ],
    [
      'a withheld caller',
      { message: { channel: 'voice', kind: 'call', noAckReason: 'anonymous-caller' } },
      'anonymous-caller',
      false,
    ],
  ])(
    'should acknowledge %s as the policy decides (by the greeting alone when nothing is texted)',
    (_case, overrides, reason, spoken) => {
      // Prepare
      const call = input({ message: { channel: 'voice', kind: 'call' }, ...overrides });

      // Act, Assess
      expect(noAckReason(call)).toBe(reason);
      expect(reason === null && ackSpokenOnly(call)).toBe(spoken);
    },
  );

  it('should take only a call as acknowledged by its greeting (never a voicemail)', () => {
    // Prepare
    const voicemail = input({ message: { channel: 'voice', kind: 'voicemail' }, canSendOn: false });

    // Act, Assess
    expect(ackSpokenOnly(voicemail)).toBe(false);
    expect(noAckReason(voicemail)).toBe('channel-cannot-send');
  });

  it.each([
    ['mobile', '+48601234567', true],
    ['mobile', '+48221234567', false],
    ['always', '+48221234567', true],
    ['never', '+48601234567', false],
    ['always', 'sip:jan@pbx.example.com', false],
    ['always', 'sip:+48601234567@trunk.example.com', false],
    ['always', 'client:jan', false],
  ] as const)('should text a %s-configured caller %s: %s', (setting, number, expected) => {
    expect(voiceSmsAllowed(setting, number)).toBe(expected);
  });
});
