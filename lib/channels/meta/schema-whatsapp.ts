// WhatsApp Cloud API payload schemas: entries, changes, messages, echoes, statuses and BSUIDs.
import { z } from 'zod';
import { id, messageId } from './schema-ids.ts';

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
    // The customer edited a message they sent (`type: edit`, Meta's "Edit messages webhook
    // reference"): its new content, read as a message's. Never a reason to refuse the message.
    edit: z
      .looseObject({
        original_message_id: z.string().max(256).optional(),
        message: WhatsAppContentSchema.partial().optional(),
      })
      .optional()
      .catch(undefined),
    // What the Cloud API cannot pass on (`type: unsupported`, Meta's "Unsupported messages webhook
    // reference"): its kind, e.g. `poll_creation`, `edit` (for a number not on the app), `pin`.
    unsupported: z
      .looseObject({ type: z.string().max(64).optional() })
      .optional()
      .catch(undefined),
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
