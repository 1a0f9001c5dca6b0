import { z } from 'zod';
import { ApiKeySchema } from '#lib/domain/api-key.ts';
import { ChannelSchema } from '#lib/domain/channel.ts';
import { ContactSchema } from '#lib/domain/contact.ts';
import { EVENT_TYPES } from '#lib/domain/events.ts';
import {
  DELIVERY_STATES,
  DISABLED_REASONS,
  StoredWebhookSubscriptionSchema,
  WebhookDeliverySchema,
  WebhookEventsSchema,
  WebhookIdSchema,
  WebhookSubscriptionSchema,
} from '#lib/domain/webhook.ts';
import type { ServiceLevelReport } from '#lib/use-cases/service-level.ts';
import {
  AddressSchema,
  ConversationViewSchema,
  DisplayNameSchema,
  evolvableEnum,
  MessageViewSchema,
  OptedOutAtSchema,
  OptOutReasonSchema,
  OptOutViewSchema,
} from '../views.ts';

// The answers the routes build inline (envelopes, picked fields), as schemas. The fields come
// from the domain schemas; test/http/openapi.test.ts checks real answers against them.

/** What every error answer of the app looks like (lib/http/errors.ts `errorBody`). */
export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable, machine-readable: branch on this' }),
      message: z.string().meta({ description: 'For people; may change' }),
      details: z.unknown().optional().meta({ description: 'Validation issues or the missing scope' }),
    }),
  })
  .meta({ description: 'Every error the app answers with; never a stack trace' });

/**
 * API Gateway's own answer when the stage throttle trips: it never reaches the app, so it is
 * not in the shared error shape.
 */
export const ThrottledSchema = z
  .object({ message: z.string() })
  .meta({ description: 'API Gateway throttle answer: {"message": "Too Many Requests"}' });

/** lib/http/idempotency.ts accepts 1 to 255 visible ASCII characters. */
export const IdempotencyKeySchema = z.string().regex(/^[\x21-\x7e]{1,255}$/);

export const ConversationPageSchema = z.object({
  items: z.array(ConversationViewSchema),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: 'Pass as `cursor` for the next page; null at the end' }),
});
export const ConversationDetailSchema = z.object({
  conversation: ConversationViewSchema,
  optedOut: OptOutViewSchema,
  messages: z
    .array(MessageViewSchema)
    .meta({ description: 'Oldest first: the latest page, or the page before `cursor`' }),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: 'Pass as `cursor` for the messages before these; null when there are none' }),
});
export const ConversationEnvelopeSchema = z.object({ conversation: ConversationViewSchema });
export const ReplySentSchema = z.object({ message: MessageViewSchema, conversation: ConversationViewSchema });
export const MessageEnvelopeSchema = z.object({ message: MessageViewSchema });

export const ContactViewSchema = ContactSchema.pick({
  key: true,
  name: true,
  channels: true,
  optedOut: true,
  locale: true,
  createdAt: true,
})
  .extend({
    displayName: DisplayNameSchema,
    address: AddressSchema,
    optedOutReason: OptOutReasonSchema.optional(),
    optedOutAt: OptedOutAtSchema.optional(),
  })
  .meta({ description: 'The person behind one or more channels' });
export const ContactDetailSchema = z.object({
  contact: ContactViewSchema,
  conversations: z.array(ConversationViewSchema).meta({ description: 'Newest first, at most 50' }),
});

export const ApiKeyListSchema = z.object({ items: z.array(ApiKeySchema), nextCursor: z.string().nullable() });
export const CreatedApiKeySchema = ApiKeySchema.pick({
  id: true,
  name: true,
  scopes: true,
  agentName: true,
  agentId: true,
  createdAt: true,
}).extend({
  token: z.string().meta({ description: 'The bearer token: shown in this answer only, never again' }),
});

// The contract names this release's event types and reasons; a newer release's, stored, are
// shown as unknownFutureValue (evolvableEnum).
export const WebhookViewSchema = WebhookSubscriptionSchema.extend({
  events: z.union([z.tuple([z.literal('*')]), z.array(evolvableEnum(EVENT_TYPES)).min(1)]),
  disabledReason: evolvableEnum(DISABLED_REASONS).nullable(),
});
export const WebhookListSchema = z.object({
  items: z.array(WebhookViewSchema),
  nextCursor: z.string().nullable(),
});
export const CreatedWebhookSchema = StoredWebhookSubscriptionSchema.pick({
  id: true,
  url: true,
  description: true,
  secret: true,
  createdAt: true,
}).extend({ events: WebhookEventsSchema });
/** The answer to a rotation: the new secret, shown this once, and until when the old one signs too. */
export const RotatedWebhookSecretSchema = z.object({
  id: WebhookIdSchema,
  secret: StoredWebhookSubscriptionSchema.shape.secret,
  previousSecretExpiresAt: z.iso
    .datetime()
    .nullable()
    .describe('Until when deliveries are signed with the old secret too; null when it stopped at once'),
});
// The stored schema keeps a newer release's fields; the contract shows only its own, and a
// newer release's event type or state as unknownFutureValue.
export const WebhookDeliveryViewSchema = z.object({
  ...WebhookDeliverySchema.omit({ subscriptionId: true, body: true, version: true }).shape,
  eventType: evolvableEnum(EVENT_TYPES),
  state: evolvableEnum(DELIVERY_STATES),
});
export const WebhookDeliveryPageSchema = z.object({
  items: z.array(WebhookDeliveryViewSchema),
  nextCursor: z.string().nullable(),
});
export const ReplayStartedSchema = z.object({
  replayId: z.string(),
  deliveries: z.number().int().nonnegative().meta({ description: 'How many deliveries were queued' }),
});

const share = z.number().min(0).max(1).nullable();
const hours = z.number().nonnegative().nullable();
const count = z.number().int().nonnegative();
const FiguresSchema = z.object({
  conversations: count,
  messages: count,
  answered: count,
  promisesKept: z.object({ share, kept: count, measured: count }),
  firstReplyWorkingHours: z.object({ median: hours, p90: hours, over48h: count }),
  firstContactResolution: z.object({ share, firstContact: count, resolved: count, pending: count }),
  noticesSent: count,
  acksSkipped: z.record(z.string(), count).meta({ description: 'By reason' }),
  breaches: count,
});
export const ServiceLevelReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  timeZone: z.string(),
  channel: ChannelSchema.nullable(),
  totals: FiguresSchema,
  byChannel: z.partialRecord(ChannelSchema, FiguresSchema),
  byDay: z.array(FiguresSchema.extend({ date: z.string() })),
});
// The report is a type of the use case, not a schema: keep the two the same shape.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const reportMatches: Same<z.infer<typeof ServiceLevelReportSchema>, ServiceLevelReport> = true;
void reportMatches;

/**
 * The schemas named in `components.schemas`; any other schema is inlined where it is used.
 * Name one here when several operations answer with it.
 */
export const NAMED_SCHEMAS: Record<string, z.ZodType> = {
  Conversation: ConversationViewSchema,
  Message: MessageViewSchema,
  Contact: ContactViewSchema,
  ApiKey: ApiKeySchema,
  Webhook: WebhookViewSchema,
  WebhookDelivery: WebhookDeliveryViewSchema,
  ServiceLevelFigures: FiguresSchema,
  Error: ErrorSchema,
  Throttled: ThrottledSchema,
};
