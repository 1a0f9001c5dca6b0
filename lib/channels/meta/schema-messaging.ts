// Messenger and Instagram payload schemas: an entry and one messaging event.
import { z } from 'zod';
import { id, messageId } from './schema-ids.ts';

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
