import { describe, expect, it } from 'vitest';
import { normalizeMetaWebhook } from '#lib/channels/meta/normalize.ts';
import { parseMetaWebhook } from '#lib/channels/meta/schema.ts';
import {
  DeliveryUpdateSchema,
  type InboundEvent,
  InboundMessageSchema,
  OutboundEchoSchema,
} from '#lib/domain/message.ts';
import {
  IG_ACCOUNT_ID,
  IGSID,
  type MetaFixture,
  messagingEnvelope,
  metaFixtureBody,
  metaJson,
  PAGE_ID,
  PSID,
  whatsappAppEchoEnvelope,
  whatsappEnvelope,
} from '#test/support/meta-factory.ts';

const IG_MID_IN =
  'aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMTIzNDU2Nzg5OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI3NjAxMjM0NTY3ODkwMTIzNDU2OjMxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTYZD';
const IG_MID_OUT =
  'aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMTIzNDU2Nzg5OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI3NjAxMjM0NTY3ODkwMTIzNDU2OjMxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTcZD';
const ECHO_MID = 'm_EchoMid0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345678';

function normalizeFixture(name: MetaFixture): InboundEvent[] {
  return normalizeMetaWebhook(parseMetaWebhook(metaFixtureBody(name)));
}

function normalizeBody(body: unknown): InboundEvent[] {
  return normalizeMetaWebhook(parseMetaWebhook(metaJson(body)));
}

// Every event must satisfy the domain contract the use cases validate against.
function assertContract(events: InboundEvent[]): void {
  for (const event of events) {
    if (event.type === 'message') InboundMessageSchema.parse(event.message);
    if (event.type === 'delivery') DeliveryUpdateSchema.parse(event.update);
    if (event.type === 'echo') OutboundEchoSchema.parse(event.echo);
  }
}

describe('normalizeMetaWebhook: Messenger', () => {
  it('should turn a text message into one messenger message keyed by the PSID', () => {
    // Act
    const events = normalizeFixture('messenger-text');

    // Assess
    expect(events).toEqual([
      {
        type: 'message',
        message: {
          provider: 'meta',
          providerMessageId:
            'm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd',
          channel: 'messenger',
          kind: 'message',
          contactKey: `messenger:${PSID}`,
          from: PSID,
          to: PAGE_ID,
          // The Page's id: its own token answers (several Pages on one app).
          toId: PAGE_ID,
          text: 'Dzień dobry, czy zamówienie 4417 już wyszło?',
          media: [],
          sentAt: '2025-11-24T11:59:59.871Z',
        },
      },
    ]);
    assertContract(events);
  });

  it('should keep every attachment url with a content type from its attachment type', () => {
    // Act
    const events = normalizeFixture('messenger-image');

    // Assess
    const [event] = events;
    if (event?.type !== 'message') throw new Error('expected a message');
    expect(event.message.text).toBe('');
    expect(event.message.media).toEqual([
      {
        url: 'https://scontent.xx.fbcdn.net/v/t1.15752-9/468213579_1234567890123456_1234567890123456789_n.jpg?_nc_cat=1&ccb=1-7&_nc_sid=fc17b8&oh=03_Q7cD1QF&oe=67A1B2C3',
        contentType: 'image/*',
      },
      {
        url: 'https://cdn.fbsbx.com/v/t59.2708-21/468213580_faktura-09-2026.pdf?_nc_cat=1&ccb=1-7&oh=03_Q7cD1QF&oe=67A1B2C4',
        contentType: 'application/octet-stream',
      },
    ]);
    assertContract(events);
  });

  it('should turn an echo into an echo keyed by the recipient, with the app id as a string', () => {
    // Act
    const events = normalizeFixture('messenger-echo');

    // Assess
    expect(events).toEqual([
      {
        type: 'echo',
        echo: {
          provider: 'meta',
          providerMessageId: ECHO_MID,
          channel: 'messenger',
          contactKey: `messenger:${PSID}`,
          from: PAGE_ID,
          to: PSID,
          text: 'Dziękujemy! Odpowiemy do jutra, 10:00. — Anna Nowak',
          media: [],
          appId: '1517776481860111',
          sentAt: new Date(1763985800555).toISOString(),
        },
      },
    ]);
    assertContract(events);
  });

  it('should turn a delivery into one delivered update per mid and ignore the read watermark', () => {
    // Act
    const events = normalizeFixture('messenger-delivery-read');

    // Assess
    const at = new Date(1763985900100).toISOString();
    expect(events).toEqual([
      {
        type: 'delivery',
        update: { provider: 'meta', providerMessageId: ECHO_MID, status: 'delivered', at },
      },
      {
        type: 'delivery',
        update: {
          provider: 'meta',
          providerMessageId:
            'm_Second0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
          status: 'delivered',
          at,
        },
      },
      { type: 'ignored', reason: 'read-watermark' },
    ]);
    assertContract(events);
  });

  it('should turn a postback into a message with its title as text', () => {
    // Act
    const events = normalizeFixture('messenger-postback');

    // Assess
    const [event] = events;
    if (event?.type !== 'message') throw new Error('expected a message');
    expect(event.message).toMatchObject({
      providerMessageId: 'm_PostbackMid0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123',
      channel: 'messenger',
      contactKey: `messenger:${PSID}`,
      text: 'Porozmawiaj z konsultantem',
    });
    assertContract(events);
  });

  it('should key a postback without a mid on its sender and timestamp, the same on every retry', () => {
    // Prepare
    const event = {
      sender: { id: PSID },
      recipient: { id: PAGE_ID },
      timestamp: 1763986000050,
      postback: { title: 'Start', payload: 'GET_STARTED' },
    };
    const body = { object: 'page', entry: [{ id: PAGE_ID, time: 1, messaging: [event] }] };

    // Act
    const first = normalizeBody(body);
    const retry = normalizeBody(body);

    // Assess
    expect(first).toEqual(retry);
    expect(first[0]).toMatchObject({
      type: 'message',
      message: { providerMessageId: `postback:${PSID}:1763986000050`, text: 'Start' },
    });
  });

  it.each([
    ['reaction', { reaction: { mid: 'm_1', action: 'react', reaction: 'love', emoji: '❤️' } }, 'reaction'],
    ['referral', { referral: { ref: 'spring-sale', source: 'SHORTLINK', type: 'OPEN_THREAD' } }, 'referral'],
    ['optin', { optin: { ref: 'newsletter' } }, 'optin'],
    ['delivery without mids', { delivery: { watermark: 1763985900100 } }, 'delivery-watermark'],
    ['something new', { pass_thread_control: { new_owner_app_id: '123' } }, 'unsupported-event'],
  ])('should ignore a %s with a reason', (_case, extra, reason) => {
    // Prepare
    const event = { sender: { id: PSID }, recipient: { id: PAGE_ID }, timestamp: 1763986000050, ...extra };

    // Act
    const events = normalizeBody({ object: 'page', entry: [{ id: PAGE_ID, time: 1, messaging: [event] }] });

    // Assess
    expect(events).toEqual([{ type: 'ignored', reason }]);
  });

  it('should record a standby message but never acknowledge it (another app owns the thread)', () => {
    // Act
    const events = normalizeFixture('batch');

    // Assess
    const standby = events.at(-1);
    expect(standby).toMatchObject({
      type: 'message',
      message: { from: '5540099887766554', noAckReason: 'standby' },
    });
  });
});

describe('normalizeMetaWebhook: the tag of our own sends (stop 26)', () => {
  const ID = 'msg_01jd3q5k8n7m6p5q4r3s2t1v0w';

  it("should name our message on an echo whose metadata is our send's tag, and nothing for another app's metadata", () => {
    // Prepare
    const echo = (metadata: unknown) =>
      messagingEnvelope([
        [
          {
            sender: { id: PAGE_ID },
            recipient: { id: PSID },
            timestamp: 1763985800555,
            message: { mid: ECHO_MID, is_echo: true, text: 'Dziękujemy!', metadata },
          },
        ],
      ]);

    // Act
    const [ours] = normalizeBody(echo(`switchboard:${ID}`));
    const [theirs] = normalizeBody(echo('ack:msg_01JD3Q5K8N'));
    const [odd] = normalizeBody(echo({ not: 'a string' }));

    // Assess: another app's metadata, whatever its shape, neither names ours nor refuses the event
    expect(ours).toMatchObject({ type: 'echo', echo: { ourMessageId: ID } });
    expect(theirs).toMatchObject({ type: 'echo' });
    expect(theirs).not.toHaveProperty('echo.ourMessageId');
    expect(odd).toMatchObject({ type: 'echo' });
    expect(odd).not.toHaveProperty('echo.ourMessageId');
    assertContract([ours, theirs, odd] as InboundEvent[]);
  });

  it("should name our message on a WhatsApp status whose biz_opaque_callback_data is our send's tag", () => {
    // Prepare
    const status = (data: string) =>
      whatsappEnvelope({
        statuses: [
          {
            id: 'wamid.TAGGED',
            status: 'sent',
            timestamp: '1763986700',
            recipient_id: '48601234567',
            biz_opaque_callback_data: data,
          },
        ],
      });

    // Act
    const [ours] = normalizeBody(status(`switchboard:${ID}`));
    const [theirs] = normalizeBody(status('campaign-42'));

    // Assess
    expect(ours).toMatchObject({
      type: 'delivery',
      update: { providerMessageId: 'wamid.TAGGED', ourMessageId: ID },
    });
    expect(theirs).not.toHaveProperty('update.ourMessageId');
    assertContract([ours, theirs] as InboundEvent[]);
  });
});

describe('normalizeMetaWebhook: Instagram', () => {
  it('should turn a text message into one instagram message keyed by the IGSID', () => {
    // Act
    const events = normalizeFixture('instagram-text');

    // Assess
    expect(events).toEqual([
      {
        type: 'message',
        message: {
          provider: 'meta',
          providerMessageId: IG_MID_IN,
          channel: 'instagram',
          kind: 'message',
          contactKey: `instagram:${IGSID}`,
          from: IGSID,
          to: IG_ACCOUNT_ID,
          toId: IG_ACCOUNT_ID,
          text: 'Hi! Is the blue jacket still available in M?',
          media: [],
          sentAt: '2025-11-24T12:08:20.011Z',
        },
      },
    ]);
    assertContract(events);
  });

  it('should turn an echo into an echo without an app id when Meta gives none', () => {
    // Act
    const events = normalizeFixture('instagram-echo');

    // Assess
    expect(events).toEqual([
      {
        type: 'echo',
        echo: {
          provider: 'meta',
          providerMessageId: IG_MID_OUT,
          channel: 'instagram',
          contactKey: `instagram:${IGSID}`,
          from: IG_ACCOUNT_ID,
          to: IGSID,
          sentAt: new Date(1763986200100).toISOString(),
          text: 'Yes, it is! Shall I reserve one for you?',
          media: [],
        },
      },
    ]);
    assertContract(events);
  });

  it('should ignore messaging_seen', () => {
    // Act
    const events = normalizeFixture('instagram-seen');

    // Assess
    expect(events).toEqual([{ type: 'ignored', reason: 'read-receipt' }]);
  });

  it('should ignore a deleted message', () => {
    // Prepare
    const event = {
      sender: { id: IGSID },
      recipient: { id: IG_ACCOUNT_ID },
      timestamp: 1,
      message: { mid: 'aWdf1', is_deleted: true },
    };

    // Act
    const events = normalizeBody({
      object: 'instagram',
      entry: [{ id: IG_ACCOUNT_ID, time: 1, messaging: [event] }],
    });

    // Assess
    expect(events).toEqual([{ type: 'ignored', reason: 'deleted' }]);
  });
});

describe('normalizeMetaWebhook: WhatsApp', () => {
  const WAMID_TEXT = 'wamid.HBgLNDg2MDEyMzQ1NjcVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=';

  it('should turn a text into a whatsapp message keyed like SMS from the same number', () => {
    // Act
    const events = normalizeFixture('whatsapp-text');

    // Assess
    expect(events).toEqual([
      {
        type: 'message',
        message: {
          provider: 'meta',
          providerMessageId: WAMID_TEXT,
          channel: 'whatsapp',
          kind: 'message',
          contactKey: 'phone:+48601234567',
          contactName: 'Ewa Kowalska',
          from: '+48601234567',
          to: '+48221234567',
          toId: '106540352242922',
          text: 'Dzień dobry, kiedy dostawa?',
          media: [],
          sentAt: '2025-11-24T12:13:20.000Z',
        },
      },
    ]);
    assertContract(events);
  });

  it('should never acknowledge a message to another number of the business account than ours', () => {
    // Prepare
    const body = parseMetaWebhook(metaFixtureBody('whatsapp-text'));

    // Act
    const ours = normalizeMetaWebhook(body, { whatsappPhoneNumberId: '106540352242922' });
    const other = normalizeMetaWebhook(body, { whatsappPhoneNumberId: '207651463353033' });

    // Assess
    expect(ours[0]).not.toHaveProperty('message.noAckReason');
    expect(other[0]).toMatchObject({ type: 'message', message: { noAckReason: 'other-number' } });
  });

  // Found at stop 24: only Twilio's normalizer read keywords, so a Cloud API STOP was answered.
  it.each([
    ['STOP', { consent: 'opt-out', noAckReason: 'keyword:stop' }],
    [' unsubscribe ', { consent: 'opt-out', noAckReason: 'keyword:unsubscribe' }],
    ['Start', { consent: 'opt-in', noAckReason: 'keyword:start', optInOnlyIfOptedOut: true }],
    ['yes', { consent: 'opt-in', noAckReason: 'keyword:yes', optInOnlyIfOptedOut: true }],
  ])('should read %j on WhatsApp Cloud as the keyword it is on SMS', (body, expected) => {
    // Prepare
    const message = { from: '48601234567', id: 'wamid.K1', type: 'text', text: { body } };

    // Act
    const events = normalizeBody(whatsappEnvelope({ messages: [message] }));

    // Assess
    expect(events[0]).toMatchObject({ type: 'message', message: expected });
    assertContract(events);
  });

  it.each(['HELP', 'stop please'])('should take %j on WhatsApp Cloud as an ordinary message', (body) => {
    // Prepare: nobody answers HELP for us on the Cloud API; a sentence is not a keyword
    const message = { from: '48601234567', id: 'wamid.K2', type: 'text', text: { body } };

    // Act
    const [event] = normalizeBody(whatsappEnvelope({ messages: [message] }));

    // Assess
    expect(event).not.toHaveProperty('message.noAckReason');
    expect(event).not.toHaveProperty('message.consent');
  });

  it('should keep the consent of a STOP to another number of the account, and say why it is not answered', () => {
    // Prepare
    const message = { from: '48601234567', id: 'wamid.K3', type: 'text', text: { body: 'STOP' } };

    // Act
    const [event] = normalizeMetaWebhook(
      parseMetaWebhook(metaJson(whatsappEnvelope({ messages: [message] }))),
      {
        whatsappPhoneNumberId: '207651463353033',
      },
    );

    // Assess
    expect(event).toMatchObject({
      type: 'message',
      message: { consent: 'opt-out', noAckReason: 'other-number' },
    });
  });

  it('should keep an image as a media id reference with its MIME type and its caption as text', () => {
    // Act
    const events = normalizeFixture('whatsapp-image');

    // Assess
    expect(events[0]).toMatchObject({
      type: 'message',
      message: {
        text: 'Uszkodzona paczka',
        media: [{ url: 'whatsapp-media:1084751220388816', contentType: 'image/jpeg' }],
      },
    });
    assertContract(events);
  });

  it('should use the title of an interactive button reply as text', () => {
    // Act
    const events = normalizeFixture('whatsapp-button-reply');

    // Assess
    expect(events[0]).toMatchObject({
      type: 'message',
      message: { text: 'Zmień termin', contactKey: 'phone:+48601234567' },
    });
  });

  it.each([
    [
      'a template button',
      { type: 'button', button: { payload: 'CONFIRM', text: 'Potwierdzam' } },
      'Potwierdzam',
    ],
    [
      'a list reply',
      {
        type: 'interactive',
        interactive: { type: 'list_reply', list_reply: { id: 'r1', title: 'Reklamacja' } },
      },
      'Reklamacja',
    ],
    [
      'a location',
      { type: 'location', location: { latitude: 52.2297, longitude: 21.0122 } },
      '📍 52.2297,21.0122',
    ],
    [
      'a voice note',
      { type: 'audio', audio: { id: '987', mime_type: 'audio/ogg; codecs=opus', voice: true } },
      '',
    ],
    // Found at stop 33: stored empty, the agent saw nothing of it.
    ['an unsupported type', { type: 'unsupported', errors: [{ code: 131051 }] }, '⚠️'],
    [
      'an unsupported poll',
      { type: 'unsupported', unsupported: { type: 'poll_creation' }, errors: [{ code: 131051 }] },
      '⚠️ [poll_creation]',
    ],
    // Found at stop 24: these three kept no text, and were stored empty.
    [
      'two shared contact cards',
      {
        type: 'contacts',
        contacts: [
          {
            name: { formatted_name: 'Jan Kowalski', first_name: 'Jan' },
            phones: [{ phone: '+48 602 345 678', wa_id: '48602345678', type: 'CELL' }],
            emails: [{ email: 'jan@example.com', type: 'WORK' }],
            org: { company: 'Kowalski sp. z o.o.' },
          },
          { name: { first_name: 'Anna', last_name: 'Nowak' }, phones: [{ wa_id: '48603456789' }] },
        ],
      },
      '👤 Jan Kowalski, Kowalski sp. z o.o., +48 602 345 678, jan@example.com\n👤 Anna Nowak, +48603456789',
    ],
    [
      'an order from the catalog',
      {
        type: 'order',
        order: {
          catalog_id: '1',
          text: 'Proszę o szybką wysyłkę',
          product_items: [{ product_retailer_id: 'SKU-1', quantity: 2, item_price: 49.99, currency: 'PLN' }],
        },
      },
      '🛒 Proszę o szybką wysyłkę\n2 × SKU-1 (49.99 PLN)',
    ],
    [
      "a WhatsApp Flow's answers",
      {
        type: 'interactive',
        interactive: {
          type: 'nfm_reply',
          nfm_reply: {
            name: 'flow',
            body: 'Sent',
            response_json: '{"flow_token":"T1","order_number":"PL-123","when":["morning"]}',
          },
        },
      },
      'order_number: PL-123\nwhen: ["morning"]',
    ],
  ])('should turn %s into a message', (_case, extra, text) => {
    // Prepare
    const message = { from: '48601234567', id: 'wamid.X1', timestamp: '1763986600', ...extra };

    // Act
    const events = normalizeBody(whatsappEnvelope({ messages: [message] }));

    // Assess
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'message', message: { text } });
    assertContract(events);
  });

  it('should ignore a reaction and a system message', () => {
    // Prepare
    const messages = [
      {
        from: '48601234567',
        id: 'wamid.R1',
        timestamp: '1',
        type: 'reaction',
        reaction: { message_id: 'wamid.X', emoji: '👍' },
      },
      {
        from: '48601234567',
        id: 'wamid.S1',
        timestamp: '1',
        type: 'system',
        system: { body: 'changed number' },
      },
    ];

    // Act
    const events = normalizeBody(whatsappEnvelope({ messages }));

    // Assess
    expect(events).toEqual([
      { type: 'ignored', reason: 'whatsapp-reaction' },
      { type: 'ignored', reason: 'whatsapp-system' },
    ]);
  });

  it('should take the profile name of the one contact when its wa_id differs from the sender', () => {
    // Prepare
    const messages = [
      { from: '5511987654321', id: 'wamid.BR', timestamp: '1', type: 'text', text: { body: 'Oi' } },
    ];
    const contacts = [{ profile: { name: 'João' }, wa_id: '551187654321' }];

    // Act
    const events = normalizeBody(whatsappEnvelope({ messages, contacts }));

    // Assess
    expect(events[0]).toMatchObject({
      type: 'message',
      message: { contactName: 'João', from: '+5511987654321' },
    });
  });

  it('should turn every status into a delivery update, with the error code of a failure', () => {
    // Act
    const events = normalizeFixture('whatsapp-statuses');

    // Assess
    const sent = 'wamid.HBgLNDg2MDEyMzQ1NjcVAgARGBJBQ0sxMjM0NTY3ODkwQUJDREUA';
    const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
    expect(events).toEqual([
      {
        type: 'delivery',
        update: { provider: 'meta', providerMessageId: sent, status: 'sent', at: iso(1763986700) },
      },
      {
        type: 'delivery',
        update: { provider: 'meta', providerMessageId: sent, status: 'delivered', at: iso(1763986702) },
      },
      {
        type: 'delivery',
        update: { provider: 'meta', providerMessageId: sent, status: 'read', at: iso(1763986760) },
      },
      {
        type: 'delivery',
        update: {
          provider: 'meta',
          providerMessageId: 'wamid.HBgLNDg2MDk4NzY1NDMVAgARGBJBQ0s5ODc2NTQzMjEwRkVEQ0IA',
          status: 'failed',
          errorCode: '131047',
          windowClosed: true,
          at: iso(1763986800),
        },
      },
    ]);
    assertContract(events);
  });

  it('should ignore other change fields and system-level errors', () => {
    // Prepare
    const body = whatsappEnvelope({});
    const entry = (body.entry as Array<{ changes: unknown[] }>)[0];
    entry?.changes.push(
      { field: 'message_template_status_update', value: { event: 'APPROVED', message_template_id: 1 } },
      {
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '48221234567', phone_number_id: '106540352242922' },
          errors: [{ code: 130429, title: 'Rate limit hit' }],
        },
      },
    );

    // Act
    const events = normalizeBody(body);

    // Assess
    expect(events).toEqual([
      { type: 'ignored', reason: 'whatsapp-field:message_template_status_update' },
      { type: 'ignored', reason: 'whatsapp-errors' },
    ]);
  });
});

describe('normalizeMetaWebhook: WhatsApp Business app replies (smb_message_echoes, stop 26)', () => {
  it("should read Meta's documented echo as a person's reply to the customer's phone contact", () => {
    // Act
    const events = normalizeFixture('whatsapp-smb-echo');

    // Assess
    assertContract(events);
    expect(events).toEqual([
      {
        type: 'echo',
        echo: {
          provider: 'meta',
          providerMessageId: 'wamid.HBgLNDg2MDEyMzQ1NjcVAgARGBI5QkE2RTdCMjQ0QzY0RjU1QjAA',
          channel: 'whatsapp',
          contactKey: 'phone:+48601234567',
          from: '+48221234567',
          to: '+48601234567',
          text: 'Dzień dobry, paczka wyjedzie jutro rano. Anna',
          media: [],
          sentAt: '2025-11-24T12:33:20.000Z',
        },
      },
    ]);
  });

  it('should read a number given with a +, a BSUID without a number, and our own send tag', () => {
    // Prepare
    const plus = whatsappAppEchoEnvelope({ id: 'wamid.plus', to: '+48601234567', sentAt: 1763987600000 });
    const bsuid = whatsappAppEchoEnvelope({
      id: 'wamid.bsuid',
      to: null,
      to_user_id: 'PL.13491208655302741918',
      sentAt: 1763987600000,
    });
    const tagged = whatsappAppEchoEnvelope({
      id: 'wamid.tagged',
      sentAt: 1763987600000,
      biz_opaque_callback_data: 'switchboard:msg_0123456789abcdef',
    });

    // Act
    const events = [plus, bsuid, tagged].flatMap((body) => normalizeBody(body));

    // Assess
    assertContract(events);
    const echoes = events.map((event) => (event.type === 'echo' ? event.echo : undefined));
    expect(echoes.map((echo) => [echo?.contactKey, echo?.to, echo?.ourMessageId])).toEqual([
      ['phone:+48601234567', '+48601234567', undefined],
      ['whatsapp:PL.13491208655302741918', 'PL.13491208655302741918', undefined],
      ['phone:+48601234567', '+48601234567', 'msg_0123456789abcdef'],
    ]);
  });

  it("should ignore the app's edits, revokes and reactions, and the app's contact sync", () => {
    // Prepare
    const kinds = ['edit', 'revoke', 'reaction'].map((type, i) =>
      whatsappAppEchoEnvelope({ id: `wamid.kind${i}`, type, sentAt: 1763987600000 }),
    );
    const sync = whatsappEnvelope({});
    const change = (sync.entry as Array<{ changes: Array<{ field: string; value: unknown }> }>)[0]
      ?.changes[0];
    if (change) {
      change.field = 'smb_app_state_sync';
      change.value = {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: '48221234567', phone_number_id: '106540352242922' },
        state_sync: [{ type: 'contact', contact: { full_name: 'Ewa', phone_number: '48601234567' } }],
      };
    }

    // Act
    const events = [...kinds, sync].flatMap((body) => normalizeBody(body));

    // Assess
    expect(events).toEqual([
      { type: 'ignored', reason: 'whatsapp-echo-edit' },
      { type: 'ignored', reason: 'whatsapp-echo-revoke' },
      { type: 'ignored', reason: 'whatsapp-echo-reaction' },
      { type: 'ignored', reason: 'whatsapp-field:smb_app_state_sync' },
    ]);
  });
});

describe('normalizeMetaWebhook: anything else', () => {
  it('should answer one ignored event for an unknown object', () => {
    // Act
    const events = normalizeFixture('unknown-object');

    // Assess
    expect(events).toEqual([{ type: 'ignored', reason: 'unknown-object:user' }]);
  });

  it.each([
    'messenger-echo',
    'messenger-delivery-read',
    'instagram-echo',
    'instagram-seen',
    'whatsapp-statuses',
    'unknown-object',
  ] as const)('should produce no message event from %s', (fixture) => {
    // Act
    const events = normalizeFixture(fixture);

    // Assess
    expect(events.length).toBeGreaterThan(0);
    expect(events.filter((event) => event.type === 'message')).toEqual([]);
  });
});
