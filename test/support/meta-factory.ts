import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { WebhookRequest } from '#lib/channels/channel.ts';

export type MetaFixture =
  | 'messenger-text'
  | 'messenger-image'
  | 'messenger-echo'
  | 'messenger-delivery-read'
  | 'messenger-postback'
  | 'instagram-text'
  | 'instagram-echo'
  | 'instagram-seen'
  | 'whatsapp-text'
  | 'whatsapp-image'
  | 'whatsapp-button-reply'
  | 'whatsapp-statuses'
  | 'whatsapp-username'
  | 'whatsapp-smb-echo'
  | 'batch'
  | 'unknown-object';

/** The App Secret the fixtures are signed with in tests; not a real credential. */
export const TEST_APP_SECRET = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
export const TEST_WEBHOOK_URL = 'https://hooks.switchboard.example/webhooks/meta';
export const PAGE_ID = '104857600123456';
export const PSID = '7214568801234567';
export const IG_ACCOUNT_ID = '17841400123456789';
export const IGSID = '1029384756102938';

/** A captured webhook body exactly as stored (Meta escapes non-ASCII as \uXXXX). */
export function metaFixtureBody(name: MetaFixture): string {
  return readFileSync(new URL(`../fixtures/meta/${name}.json`, import.meta.url), 'utf8');
}

/** A fixture as a mutable object, to build variations from. */
export function metaFixture(name: MetaFixture): Record<string, unknown> {
  return JSON.parse(metaFixtureBody(name));
}

/** Meta's body encoding: JSON with every non-ASCII character escaped as \uXXXX. */
export function metaJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The `X-Hub-Signature-256` value Meta sends for this exact body. */
export function signMeta(body: string, appSecret: string = TEST_APP_SECRET): string {
  return `sha256=${createHmac('sha256', appSecret).update(body, 'utf8').digest('hex')}`;
}

/** A signed WebhookRequest as lib/http would hand it to the channel. */
export function signedMetaRequest(
  body: string,
  options: { appSecret?: string; headers?: Record<string, string> } = {},
): WebhookRequest {
  const headers = new Headers({
    'content-type': 'application/json',
    'user-agent': 'facebookexternalua',
    'x-hub-signature': `sha1=${createHmac('sha1', options.appSecret ?? TEST_APP_SECRET)
      .update(body, 'utf8')
      .digest('hex')}`,
    'x-hub-signature-256': signMeta(body, options.appSecret),
    ...options.headers,
  });
  return { url: TEST_WEBHOOK_URL, headers, rawBody: body };
}

/** A reply a person wrote in the Page's own inbox: Meta's echo of it, from no app of ours. */
export function inboxReplyFixture(): Record<string, unknown> {
  const echo = metaFixture('messenger-echo') as {
    entry: Array<{ messaging: Array<{ message: Record<string, unknown> }> }>;
  };
  const message = echo.entry[0]?.messaging[0]?.message;
  if (message) delete message.app_id;
  return echo;
}

/** A Messenger or Instagram text message event from `sender` to `recipient`. */
export function messagingTextEvent(
  n: number,
  options: { sender?: string; recipient?: string; text?: string } = {},
): Record<string, unknown> {
  return {
    sender: { id: options.sender ?? PSID },
    recipient: { id: options.recipient ?? PAGE_ID },
    timestamp: 1763985600000 + n,
    message: { mid: `m_test_${String(n).padStart(8, '0')}`, text: options.text ?? `Wiadomość ${n}` },
  };
}

/** A `page` (or `instagram`) envelope with one entry per events list. */
export function messagingEnvelope(
  events: unknown[][],
  object: 'page' | 'instagram' = 'page',
  pageId: string = object === 'page' ? PAGE_ID : IG_ACCOUNT_ID,
): Record<string, unknown> {
  return {
    object,
    entry: events.map((messaging, i) => ({ id: pageId, time: 1763985600000 + i, messaging })),
  };
}

/** A WhatsApp `messages` change value with the given messages and statuses. */
export function whatsappEnvelope(value: {
  messages?: unknown[];
  statuses?: unknown[];
  contacts?: unknown[];
}): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '48221234567', phone_number_id: '106540352242922' },
              ...value,
            },
          },
        ],
      },
    ],
  };
}

/**
 * A WhatsApp `smb_message_echoes` change (coexistence: what the business sent from the WhatsApp
 * Business app), shaped as Meta's webhook reference documents it: one text echo to `to` (a
 * number without `+`; null: none) sent at `sentAt` (ms), with any other fields of the echo over it.
 */
export function whatsappAppEchoEnvelope(
  echo: { id: string; to?: string | null; sentAt: number; text?: string } & Record<string, unknown>,
): Record<string, unknown> {
  const {
    id,
    to = '48601234567',
    sentAt,
    text = 'Dzień dobry, paczka wyjedzie jutro rano. Anna',
    ...rest
  } = echo;
  const body = metaFixture('whatsapp-smb-echo') as {
    entry: Array<{ changes: Array<{ value: { message_echoes: unknown[] } }> }>;
  };
  const value = body.entry[0]?.changes[0]?.value;
  if (value) {
    value.message_echoes = [
      {
        from: '48221234567',
        ...(to === null ? {} : { to }),
        id,
        timestamp: String(Math.floor(sentAt / 1000)),
        type: 'text',
        text: { body: text },
        ...rest,
      },
    ];
  }
  return body;
}

/**
 * A WhatsApp Cloud text message from a user known by their business-scoped user id (BSUID), with
 * their number beside it when given (Meta's "Business-scoped user IDs": a user with a username
 * whose number the business has not exchanged messages with comes with the BSUID only), or by
 * their number alone (a webhook from before Meta added BSUIDs).
 */
export function whatsappUserText(
  text: string,
  user: { bsuid?: string | undefined; number?: string | undefined },
  id: string,
  timestamp: number,
): Record<string, unknown> {
  const { bsuid, number } = user;
  return whatsappEnvelope({
    contacts: [
      {
        profile: { name: 'Ewa Kowalska', ...(number ? {} : { username: '@ewa' }) },
        ...(number ? { wa_id: number } : {}),
        ...(bsuid ? { user_id: bsuid } : {}),
      },
    ],
    messages: [
      {
        ...(number ? { from: number } : {}),
        ...(bsuid ? { from_user_id: bsuid } : {}),
        id,
        timestamp: String(timestamp),
        type: 'text',
        text: { body: text },
      },
    ],
  });
}

/** A WhatsApp Cloud text from `from` to our number with this phone_number_id (several senders). */
export function whatsappTo(phoneNumberId: string, from: string, id: string) {
  const payload = whatsappEnvelope({
    contacts: [{ profile: { name: 'Ewa' }, wa_id: from }],
    messages: [{ from, id, timestamp: '1763986400', type: 'text', text: { body: 'Dzień dobry' } }],
  }) as { entry: Array<{ changes: Array<{ value: { metadata: Record<string, string> } }> }> };
  const value = payload.entry[0]?.changes[0]?.value;
  if (value)
    value.metadata = {
      display_phone_number: `4822${phoneNumberId.slice(-7)}`,
      phone_number_id: phoneNumberId,
    };
  return payload;
}
