import { z } from 'zod';
import { MalformedPayloadError } from '#lib/channels/channel.ts';

// Meta's ids are numeric strings today; only bound them, so a new id format is not a lost message.
const id = z.string().min(1).max(128);
// Message ids (mid, wamid) are long base64-ish strings; InboundMessageSchema caps them at 256.
const messageId = z.string().min(1).max(256);

/** The envelope of every Meta webhook POST: parsed strictly; entries are checked one by one. */
export const MetaEnvelopeSchema = z.looseObject({
  object: z.string().min(1).max(100),
  entry: z.array(z.unknown()),
});

/** `entry[]` of Messenger (`page`) and Instagram: events under `messaging[]` or, in handover, `standby[]`. */
export const MessagingEntrySchema = z.looseObject({
  id,
  time: z.number().optional(),
  messaging: z.array(z.unknown()).optional(),
  standby: z.array(z.unknown()).optional(),
});

const AttachmentSchema = z.looseObject({
  type: z.string().max(64),
  // Templates and some fallbacks carry no payload, or one without a url.
  payload: z.looseObject({ url: z.string().max(4096).optional() }).nullish(),
});

/** One Messenger / Instagram messaging event; only the fields we use are validated. */
export const MessagingEventSchema = z.looseObject({
  sender: z.looseObject({ id }),
  recipient: z.looseObject({ id }),
  timestamp: z.number().optional(),
  message: z
    .looseObject({
      mid: messageId,
      text: z.string().optional(),
      attachments: z.array(AttachmentSchema).max(100).optional(),
      quick_reply: z.looseObject({ payload: z.string().optional() }).optional(),
      is_echo: z.boolean().optional(),
      app_id: z.union([z.number(), z.string().max(64)]).optional(),
      // The string the sending app set (ours: sendTagOf); another app's is never worth a refusal.
      metadata: z.string().max(1000).optional().catch(undefined),
      is_deleted: z.boolean().optional(),
    })
    .optional(),
  postback: z
    .looseObject({
      mid: messageId.optional(),
      title: z.string().optional(),
      payload: z.string().optional(),
    })
    .optional(),
  delivery: z
    .looseObject({ mids: z.array(messageId).max(1000).optional(), watermark: z.number().optional() })
    .optional(),
  read: z.looseObject({ watermark: z.number().optional(), mid: z.string().optional() }).optional(),
});
export type MessagingEvent = z.infer<typeof MessagingEventSchema>;

/** `entry[]` of WhatsApp Cloud API: one `changes[]` item per webhook field. */
export const WhatsAppEntrySchema = z.looseObject({
  id,
  changes: z.array(z.unknown()),
});

export const WhatsAppChangeSchema = z.looseObject({
  field: z.string().max(100),
  value: z.unknown(),
});

/** The `value` of a `messages` change; messages and statuses are checked one by one. */
export const WhatsAppValueSchema = z.looseObject({
  messaging_product: z.literal('whatsapp').optional(),
  metadata: z.looseObject({ display_phone_number: z.string().max(32), phone_number_id: id }),
  contacts: z
    .array(
      z.looseObject({
        wa_id: z.string().max(32).optional(),
        user_id: z.string().max(160).optional(),
        profile: z.looseObject({ name: z.string().optional() }).optional(),
      }),
    )
    .max(1000)
    .optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
  // The `smb_message_echoes` field's (coexistence): what the business sent from the app.
  message_echoes: z.array(z.unknown()).optional(),
  errors: z.array(z.unknown()).optional(),
});
export type WhatsAppValue = z.infer<typeof WhatsAppValueSchema>;

const WhatsAppMediaSchema = z.looseObject({
  id,
  mime_type: z.string().max(255).optional(),
  caption: z.string().optional(),
  filename: z.string().max(255).optional(),
});

/** One contact card of a `contacts` message; only what an agent needs to reach the person. */
const WhatsAppContactCardSchema = z.looseObject({
  name: z
    .looseObject({
      formatted_name: z.string().optional(),
      first_name: z.string().optional(),
      last_name: z.string().optional(),
    })
    .optional(),
  phones: z
    .array(z.looseObject({ phone: z.string().max(64).optional(), wa_id: z.string().max(32).optional() }))
    .max(20)
    .optional(),
  emails: z
    .array(z.looseObject({ email: z.string().max(320).optional() }))
    .max(20)
    .optional(),
  org: z.looseObject({ company: z.string().optional() }).optional(),
});

export type WhatsAppContactCard = z.infer<typeof WhatsAppContactCardSchema>;

/**
 * A WhatsApp business-scoped user id (BSUID): the user's two-letter country code, a period and
 * up to 128 letters and digits (`US.13491208655302741918`; a parent BSUID has `ENT.` after the
 * period). Meta's "Business-scoped user IDs" page: it is in every messages webhook, and it is
 * all there is of a user with a username whose number the business has not exchanged messages
 * with in 30 days. It can be messaged (as `recipient`) like a number.
 */
const BSUID = /^[A-Z]{2}\.[A-Za-z0-9.]{1,150}$/;

/** Whether an address is a BSUID rather than a phone number (which never starts with letters). */
export function isBusinessScopedUserId(address: string): boolean {
  return BSUID.test(address);
}

/**
 * What a WhatsApp message says, whichever way it went: an inbound message's fields, and those of
 * an echo of the business's own message (the type names the object that carries the content).
 */
const whatsappContent = {
  id: messageId,
  timestamp: z.string().max(20).optional(),
  type: z.string().max(64),
  text: z.looseObject({ body: z.string() }).optional(),
  image: WhatsAppMediaSchema.optional(),
  video: WhatsAppMediaSchema.optional(),
  audio: WhatsAppMediaSchema.optional(),
  document: WhatsAppMediaSchema.optional(),
  sticker: WhatsAppMediaSchema.optional(),
  button: z.looseObject({ text: z.string().optional(), payload: z.string().optional() }).optional(),
  interactive: z
    .looseObject({
      type: z.string().max(64).optional(),
      button_reply: z.looseObject({ id: z.string().optional(), title: z.string() }).optional(),
      list_reply: z.looseObject({ id: z.string().optional(), title: z.string() }).optional(),
      // A WhatsApp Flow's answers: `response_json` is a JSON string of the fields filled in.
      nfm_reply: z
        .looseObject({
          name: z.string().optional(),
          body: z.string().optional(),
          response_json: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
  location: z
    .looseObject({
      latitude: z.number(),
      longitude: z.number(),
      name: z.string().optional(),
      address: z.string().optional(),
    })
    .optional(),
  // Shared contact cards (vCards): nothing else in the message carries whom the customer shared.
  contacts: z.array(WhatsAppContactCardSchema).max(100).optional(),
  // An order from the business's catalog, with the customer's note.
  order: z
    .looseObject({
      text: z.string().optional(),
      product_items: z
        .array(
          z.looseObject({
            product_retailer_id: z.string().max(256).optional(),
            quantity: z.union([z.number(), z.string().max(32)]).optional(),
            item_price: z.union([z.number(), z.string().max(32)]).optional(),
            currency: z.string().max(8).optional(),
          }),
        )
        .max(1000)
        .optional(),
    })
    .optional(),
};

/** The content of a WhatsApp message, as text and media are read from it. */
export const WhatsAppContentSchema = z.looseObject(whatsappContent);
export type WhatsAppContent = z.infer<typeof WhatsAppContentSchema>;

/** One inbound WhatsApp message. */
export const WhatsAppMessageSchema = z
  .looseObject({
    // The customer's number in international format without `+`; omitted for a user with a
    // username whose number Meta may not share (then `from_user_id` is all there is).
    from: z
      .string()
      .regex(/^\d{4,20}$/)
      .optional(),
    // Checked only when it is all there is: a number with an odd BSUID beside it still counts.
    from_user_id: z.string().max(200).optional(),
    ...whatsappContent,
    // A change of the user's identifiers (`type: system`; Meta's "System messages webhook
    // reference" and its changelog of Aug 11, 2026): `user_changed_number` (the new number in
    // `wa_id`) or `user_changed_user_id` (no number), each with the new BSUID in `user_id` and
    // the old one in `previous_user_id`. It may come without `from` (no number to share).
    system: z
      .looseObject({
        type: z.string().max(64).optional(),
        wa_id: z.string().max(32).optional(),
        user_id: z.string().max(200).optional(),
        previous_user_id: z.string().max(200).optional(),
      })
      .optional(),
  })
  .refine(
    (message) =>
      message.type === 'system' || message.from !== undefined || BSUID.test(message.from_user_id ?? ''),
    {
      message: 'from or a from_user_id is required',
      path: ['from'],
    },
  );
export type WhatsAppMessage = z.infer<typeof WhatsAppMessageSchema>;

/**
 * One message the business sent from the WhatsApp Business app or a linked device (coexistence:
 * the number is on the app and the Cloud API at once), under the `smb_message_echoes` field's
 * `message_echoes[]`: `from` is the business's number, `to` the user's, in the form the user's
 * number is given to a send (Meta's example has a `+`, its messages have none); `to_user_id`, a
 * BSUID, beside or instead of it, as `from_user_id` on a message. The content is a message's.
 */
export const WhatsAppEchoSchema = z
  .looseObject({
    from: z.string().max(32).optional(),
    to: z
      .string()
      .regex(/^\+?\d{4,20}$/)
      .optional(),
    to_user_id: z.string().max(200).optional(),
    // Ours on a Cloud API send (sendTagOf); not expected on an echo, read if ever there.
    biz_opaque_callback_data: z.string().max(512).optional().catch(undefined),
    ...whatsappContent,
  })
  .refine((echo) => echo.to !== undefined || BSUID.test(echo.to_user_id ?? ''), {
    message: 'to or a to_user_id is required',
    path: ['to'],
  });
export type WhatsAppEcho = z.infer<typeof WhatsAppEchoSchema>;

/** One status of a message we sent. */
export const WhatsAppStatusSchema = z.looseObject({
  id: messageId,
  status: z.string().max(64),
  timestamp: z
    .string()
    .regex(/^\d{1,12}$/)
    .optional(),
  // Not read (the status finds our message by its id), only bounded. Meta's "Business-scoped
  // user IDs" page: a number, omitted when the message went to a BSUID whose number may not be
  // shared (then `recipient_user_id` names the user); in a group, the group's id, longer than
  // any number. A cap of 32 skipped such a status as invalid: our message never showed it.
  recipient_id: z.string().max(256).optional(),
  recipient_user_id: z.string().max(200).optional(),
  errors: z.array(z.looseObject({ code: z.union([z.number(), z.string().max(64)]).optional() })).optional(),
  // The string the send set (ours: sendTagOf), on statuses of template and free-form sends.
  biz_opaque_callback_data: z.string().max(512).optional().catch(undefined),
});
export type WhatsAppStatus = z.infer<typeof WhatsAppStatusSchema>;

/** What a WhatsApp message needs from the change that carried it. */
export type WhatsAppContext = {
  displayPhoneNumber: string;
  phoneNumberId: string;
  contacts: NonNullable<WhatsAppValue['contacts']>;
};

/**
 * One checked unit of a webhook, in the order Meta sent it: a messaging event, a WhatsApp
 * message or status, or something we skip with a reason (a part that failed its schema, a
 * field we do not handle). Checking each unit on its own keeps one bad event from losing
 * the good ones around it.
 */
export type MetaItem =
  | { kind: 'messaging'; channel: 'messenger' | 'instagram'; standby: boolean; event: MessagingEvent }
  | { kind: 'whatsapp-message'; context: WhatsAppContext; message: WhatsAppMessage }
  | { kind: 'whatsapp-status'; status: WhatsAppStatus }
  | { kind: 'whatsapp-echo'; context: WhatsAppContext; echo: WhatsAppEcho }
  | { kind: 'skip'; reason: string };

export type MetaPayload = { object: string; items: MetaItem[] };

const MESSAGING_OBJECTS = { page: 'messenger', instagram: 'instagram' } as const;

/** Issues as `path code`, never the values (they are names, numbers and message text). */
export function issuesOf(error: z.ZodError, limit = 3): string[] {
  return error.issues.slice(0, limit).map((issue) => `${issue.path.join('.') || '(root)'} ${issue.code}`);
}

function invalid(where: string, error: z.ZodError): MetaItem {
  return { kind: 'skip', reason: `invalid-event ${where}: ${issuesOf(error).join('; ')}` };
}

/** Provider-chosen names in a reason are kept only when they look like names. */
export function safeName(value: string): string {
  return /^[a-z0-9_.-]{1,64}$/i.test(value) ? value : 'other';
}

function messagingItems(channel: 'messenger' | 'instagram', entries: unknown[], items: MetaItem[]): void {
  for (const [e, raw] of entries.entries()) {
    const entry = MessagingEntrySchema.safeParse(raw);
    if (!entry.success) {
      items.push(invalid(`entry[${e}]`, entry.error));
      continue;
    }
    for (const source of ['messaging', 'standby'] as const) {
      for (const [i, rawEvent] of (entry.data[source] ?? []).entries()) {
        const event = MessagingEventSchema.safeParse(rawEvent);
        items.push(
          event.success
            ? { kind: 'messaging', channel, standby: source === 'standby', event: event.data }
            : invalid(`entry[${e}].${source}[${i}]`, event.error),
        );
      }
    }
  }
}

function whatsappValueItems(where: string, value: WhatsAppValue, items: MetaItem[]): void {
  const context: WhatsAppContext = {
    displayPhoneNumber: value.metadata.display_phone_number,
    phoneNumberId: value.metadata.phone_number_id,
    contacts: value.contacts ?? [],
  };
  for (const [i, raw] of (value.messages ?? []).entries()) {
    const message = WhatsAppMessageSchema.safeParse(raw);
    items.push(
      message.success
        ? { kind: 'whatsapp-message', context, message: message.data }
        : invalid(`${where}.messages[${i}]`, message.error),
    );
  }
  for (const [i, raw] of (value.statuses ?? []).entries()) {
    const status = WhatsAppStatusSchema.safeParse(raw);
    items.push(
      status.success
        ? { kind: 'whatsapp-status', status: status.data }
        : invalid(`${where}.statuses[${i}]`, status.error),
    );
  }
  for (const [i, raw] of (value.message_echoes ?? []).entries()) {
    const echo = WhatsAppEchoSchema.safeParse(raw);
    items.push(
      echo.success
        ? { kind: 'whatsapp-echo', context, echo: echo.data }
        : invalid(`${where}.message_echoes[${i}]`, echo.error),
    );
  }
  // System-level errors about the app or account, not about one message: logged, never stored.
  if (value.errors?.length) items.push({ kind: 'skip', reason: 'whatsapp-errors' });
}

/** `messages` (messages and statuses), `smb_message_echoes` (what the business sent from the app). */
const WHATSAPP_FIELDS = new Set(['messages', 'smb_message_echoes']);

function whatsappChangeItems(where: string, raw: unknown, items: MetaItem[]): void {
  const change = WhatsAppChangeSchema.safeParse(raw);
  if (!change.success) {
    items.push(invalid(where, change.error));
  } else if (!WHATSAPP_FIELDS.has(change.data.field)) {
    // smb_app_state_sync (the app's contact book, coexistence) among them: names are not needed.
    items.push({ kind: 'skip', reason: `whatsapp-field:${safeName(change.data.field)}` });
  } else {
    const value = WhatsAppValueSchema.safeParse(change.data.value);
    if (value.success) whatsappValueItems(`${where}.value`, value.data, items);
    else items.push(invalid(`${where}.value`, value.error));
  }
}

function whatsappItems(entries: unknown[], items: MetaItem[]): void {
  for (const [e, raw] of entries.entries()) {
    const entry = WhatsAppEntrySchema.safeParse(raw);
    if (!entry.success) {
      items.push(invalid(`entry[${e}]`, entry.error));
      continue;
    }
    for (const [c, change] of entry.data.changes.entries()) {
      whatsappChangeItems(`entry[${e}].changes[${c}]`, change, items);
    }
  }
}

/**
 * Checks a parsed body: the envelope strictly (MalformedPayloadError from the caller when it
 * fails), then every entry and event on its own. An unknown `object` keeps no items.
 */
export function checkMetaEnvelope(envelope: z.infer<typeof MetaEnvelopeSchema>): MetaPayload {
  const items: MetaItem[] = [];
  const channel = Object.hasOwn(MESSAGING_OBJECTS, envelope.object)
    ? MESSAGING_OBJECTS[envelope.object as keyof typeof MESSAGING_OBJECTS]
    : undefined;
  if (channel) messagingItems(channel, envelope.entry, items);
  else if (envelope.object === 'whatsapp_business_account') whatsappItems(envelope.entry, items);
  return { object: envelope.object, items };
}

/**
 * Parses a raw webhook body: invalid JSON or an envelope without `object` and `entry[]`
 * throws MalformedPayloadError (paths only, never values); anything inside is checked leniently.
 */
export function parseMetaWebhook(rawBody: string): MetaPayload {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw new MalformedPayloadError('Meta webhook body is not JSON');
  }
  const envelope = MetaEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    const issues = issuesOf(envelope.error, 20);
    throw new MalformedPayloadError(
      `Meta webhook envelope does not match the documented shape (${issues.length} issue(s))`,
      issues,
    );
  }
  return checkMetaEnvelope(envelope.data);
}
