import { z } from 'zod';
import { ApiKeyIdSchema } from '#lib/domain/api-key.ts';
import { ContactKeySchema } from '#lib/domain/contact.ts';
import { WebhookIdSchema } from '#lib/domain/webhook.ts';
import {
  AssignBody,
  EmptyBody,
  MAX_ACTION_BODY_BYTES,
  NoteBody,
  ReplyBody,
  ResolveBody,
} from '../routes/actions.ts';
import { CreateKeyBody, MAX_KEY_BODY_BYTES } from '../routes/admin.ts';
import {
  ContactQuery,
  ConversationId,
  ConversationMessagesQuery,
  ListConversationsQuery,
} from '../routes/api.ts';
import { WhoAmISchema } from '../routes/me.ts';
import { PeopleSchema } from '../routes/people.ts';
import { ServiceLevelQuerySchema } from '../routes/service-level.ts';
import {
  createBody,
  DeliveriesQuery,
  MAX_WEBHOOK_BODY_BYTES,
  ReplayBody,
  RotateSecretBody,
} from '../routes/webhooks.ts';
import type { ApiOperation } from './operation.ts';
import {
  ApiKeyListSchema,
  ContactDetailSchema,
  ConversationDetailSchema,
  ConversationEnvelopeSchema,
  ConversationPageSchema,
  CreatedApiKeySchema,
  CreatedWebhookSchema,
  MessageEnvelopeSchema,
  ReplayStartedSchema,
  ReplySentSchema,
  RotatedWebhookSecretSchema,
  ServiceLevelReportSchema,
  WebhookDeliveryPageSchema,
  WebhookListSchema,
  WebhookViewSchema,
} from './schemas.ts';

const conversationId = { id: ConversationId.meta({ description: 'conv_…; any other shape is a 404' }) };
const noStore = {
  'Cache-Control': { description: '`no-store`: the secret in this answer must not be cached' },
};

/**
 * Every route of the HTTP API but the providers' webhooks, one entry each: documenting a new
 * route is adding its entry here (test/http/openapi.test.ts fails for a route without one).
 */
export const OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    tag: 'Meta',
    summary: 'Liveness',
    auth: 'public',
    responses: { 200: { description: 'Up', schema: z.object({ ok: z.literal(true) }) } },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openApiDocument',
    tag: 'Meta',
    summary: 'This document (OpenAPI 3.1)',
    auth: 'public',
    responses: { 200: { description: 'The OpenAPI document', schema: z.record(z.string(), z.unknown()) } },
  },
  {
    method: 'get',
    path: '/api/docs',
    operationId: 'apiReference',
    tag: 'Meta',
    summary: 'Interactive reference of this API (HTML)',
    auth: 'public',
    responses: {
      200: { description: 'A self-contained page', schema: z.string(), contentType: 'text/html' },
    },
  },

  {
    method: 'get',
    path: '/api/conversations',
    operationId: 'listConversations',
    tag: 'Conversations',
    summary: 'List conversations',
    description:
      'Newest activity first, or soonest promise first with `order=replyBy`. One filter at a time: ' +
      '`channel`, `assignee`, the waiting ones (`awaiting`, `overdue`, `order=replyBy`), or the open ones ' +
      'that need no reply (`noReplyNeeded`: an out-of-office reply, a list post, a keyword; newest first).',
    auth: 'read',
    query: ListConversationsQuery,
    responses: { 200: { description: 'One page', schema: ConversationPageSchema } },
    errors: { 400: ['INVALID_CURSOR'] },
  },
  {
    method: 'get',
    path: '/api/conversations/:id',
    operationId: 'getConversation',
    tag: 'Conversations',
    summary: 'One conversation with its messages, a page at a time',
    description:
      'The latest messages (`limit`, default 100, at most 200), oldest first; pass `nextCursor` as ' +
      '`cursor` for the ones before them. A page of long messages (mail) holds fewer, under 2 MB; ' +
      'each message is whole.',
    auth: 'read',
    params: conversationId,
    query: ConversationMessagesQuery,
    responses: { 200: { description: 'The conversation', schema: ConversationDetailSchema } },
    errors: { 400: ['INVALID_CURSOR'], 404: ['NOT_FOUND'] },
  },
  {
    method: 'get',
    path: '/api/contacts',
    operationId: 'getContact',
    tag: 'Contacts',
    summary: 'A contact with their conversations',
    description:
      'The key travels in the query string, which the API Gateway access log does not record: a ' +
      'contact key may hold a phone number or an email address.',
    auth: 'read',
    query: ContactQuery,
    responses: { 200: { description: 'The contact', schema: ContactDetailSchema } },
    errors: { 404: ['NOT_FOUND'] },
  },
  {
    method: 'get',
    path: '/api/contacts/:key',
    operationId: 'getContactByPath',
    tag: 'Contacts',
    summary: 'A contact with their conversations (the key in the path)',
    description:
      'The same answer as `GET /api/contacts?key=…`, kept for existing clients. Prefer the query ' +
      'form: a path is recorded in the API Gateway access log, and this key may hold a phone number ' +
      'or an email address. Any key no channel makes is a 404.',
    deprecated: true,
    auth: 'read',
    params: {
      key: ContactKeySchema.meta({
        description:
          'The contact key, URL-encoded: `phone:+48…` (SMS, MMS, WhatsApp and calls from a number), `email:…`, `messenger:<PSID>`, `instagram:<IGSID>`, `whatsapp:<BSUID>` (a WhatsApp user known only by their business-scoped id, without a number), `sip:<user>@<host>`, `client:<identity>`',
      }),
    },
    responses: { 200: { description: 'The contact', schema: ContactDetailSchema } },
    errors: { 404: ['NOT_FOUND'] },
  },
  {
    method: 'get',
    path: '/api/service-level',
    operationId: 'getServiceLevel',
    tag: 'Service level',
    summary: 'Service level per business day, per channel and in total',
    description:
      'Dates are business days in the business time zone, both ends included, at most 92 days. ' +
      'First-contact resolution settles once a day is 7 days old.',
    auth: 'read',
    query: ServiceLevelQuerySchema,
    responses: { 200: { description: 'The report', schema: ServiceLevelReportSchema } },
  },
  {
    method: 'get',
    path: '/api/me',
    operationId: 'whoAmI',
    tag: 'Keys',
    summary: 'The calling key and its person',
    description:
      'Who the key is: its scopes and the person its replies are signed by, with the `assignee` that assigns a conversation to them (a tool\'s "Assign to me", its "Mine" listing). Read from the key itself.',
    auth: 'read',
    responses: { 200: { description: 'The key', schema: WhoAmISchema } },
  },
  {
    method: 'get',
    path: '/api/people',
    operationId: 'listPeople',
    tag: 'Keys',
    summary: "The business's named people, to assign a conversation to",
    description:
      "Everyone the business configuration lists with a direct contact, the rota and then `people.agents`, each once: the `assignee` that assigns a conversation to them (the one GET /api/me gives their own key), their name as listed now, whether they are on the rota and on duty now, and the phone or email the messages they sign state. A tool offers them by name for `POST …/assign`; the assign API still takes any other assignee as it is (a tool's own ids, a team queue). Read from the configuration: no store read.",
    auth: 'read',
    responses: { 200: { description: 'The people', schema: PeopleSchema } },
  },

  {
    method: 'post',
    path: '/api/conversations/:id/replies',
    operationId: 'sendReply',
    tag: 'Actions',
    summary: 'Reply to the customer',
    description:
      "Sent on the conversation's channel (or `channel`, one of the contact's), signed by a named person with a direct contact: the key's agent name, with their phone or email as the business configuration lists them (the rota, or `people.agents`; an email comes under their name), 422 `AGENT_NOT_LISTED` when it no longer lists them; a key without an agent name signs as the person the conversation's promise named. A resolved conversation may be answered (a follow-up), unless the contact waits for a person in another, open one (not one already answered, nor one only their out-of-office reply or HELP opened): then 409 `CONTACT_HAS_OPEN_CONVERSATION` with its id in `details.conversationId` (answer there, where the customer waits: a reply on the old one would not stop their clock). The text with its signature must fit what the channel's provider takes in one message (Twilio SMS, MMS and WhatsApp 1,600 characters, Messenger 2,000, Instagram 1,000 bytes of UTF-8, WhatsApp Cloud API 4,096; characters counted as UTF-16 code units, an emoji as two): a longer one is refused with 422 `TEXT_TOO_LONG` before anything is sent, `details` naming the `unit` (`chars` or `bytes`), the `limit`, what the `signature` takes and `maxText`, the longest text that fits; it is never cut. A reply the provider refuses for good (an unsubscribed number, an invalid one) is 422 `PROVIDER_REJECTED`, `details` naming the `provider` and the `reason` (`SEND_REJECTED:<the provider's code>`). Outside the messaging window: on Messenger and Instagram within 7 days of the customer's last message it goes tagged `HUMAN_AGENT`, after that 409 `OUTSIDE_WINDOW`; on WhatsApp (Cloud API or Twilio), more than 24 hours after it, it goes as the approved template the business configuration names for the conversation's locale (`whatsapp.replyTemplates`), `{{1}}` the text (line breaks as ' / ', runs of whitespace as one space: WhatsApp takes no newline, tab or more than four spaces in a parameter) and `{{2}}` the signature; the message then has `template`, and its text parameter takes at most 1,024 characters (422 `TEXT_TOO_LONG` with `details.template` true). With none configured it is 409 `OUTSIDE_WINDOW`, `details` naming the `locale`, `provider` and the setting to `configure`. When the provider refuses the template itself (its name, language, parameter count or status: our configuration, never the customer) the answer is 500 `TEMPLATE_REFUSED`, `details` naming the `template` and the provider's code: retry with the same Idempotency-Key once it is fixed. When the provider took the request but no answer came (a timeout), the reply may have gone: 503 `SEND_UNCERTAIN` with `Retry-After`; the retry with the same Idempotency-Key looks it up at the provider where it can (Twilio's Messages list; on Meta, the echo or status Meta sent for it) and sends it only when it did not go, and not before `Retry-After` (5 minutes) without a sign of it.",
    auth: 'reply',
    idempotent: true,
    params: conversationId,
    body: ReplyBody,
    maxBodyBytes: MAX_ACTION_BODY_BYTES,
    responses: { 201: { description: 'Sent and recorded', schema: ReplySentSchema } },
    errors: {
      404: ['NOT_FOUND'],
      409: ['OUTSIDE_WINDOW', 'NO_ROUTE', 'CONTACT_HAS_OPEN_CONVERSATION'],
      422: ['PROVIDER_REJECTED', 'AGENT_NOT_LISTED', 'TEXT_TOO_LONG'],
      500: ['TEMPLATE_REFUSED'],
      503: ['SEND_UNCERTAIN'],
    },
  },
  {
    method: 'post',
    path: '/api/conversations/:id/resolve',
    operationId: 'resolveConversation',
    tag: 'Actions',
    summary: 'Resolve',
    description:
      "Idempotent: resolving a resolved conversation changes nothing. The body may be empty; with `seenUntil`, a message the agent has not seen keeps it open: 409 `CUSTOMER_WROTE`, whose `details.seenUntil` is when the customer's newest message became readable (a message recorded late is listed by when it was received, perhaps on an earlier page, and its `recordedAt` is this time): show the agent what came after the `seenUntil` sent, then resolve with this one.",
    auth: 'reply',
    idempotent: true,
    params: conversationId,
    body: ResolveBody,
    maxBodyBytes: MAX_ACTION_BODY_BYTES,
    responses: { 200: { description: 'Resolved', schema: ConversationEnvelopeSchema } },
    errors: { 404: ['NOT_FOUND'], 409: ['CUSTOMER_WROTE'] },
  },
  {
    method: 'post',
    path: '/api/conversations/:id/reopen',
    operationId: 'reopenConversation',
    tag: 'Actions',
    summary: 'Reopen',
    description: 'Refused while the contact has another open conversation. The body may be empty.',
    auth: 'reply',
    idempotent: true,
    params: conversationId,
    body: EmptyBody,
    maxBodyBytes: MAX_ACTION_BODY_BYTES,
    responses: { 200: { description: 'Open again', schema: ConversationEnvelopeSchema } },
    errors: { 404: ['NOT_FOUND'], 409: ['CONTACT_HAS_OPEN_CONVERSATION'] },
  },
  {
    method: 'post',
    path: '/api/conversations/:id/assign',
    operationId: 'assignConversation',
    tag: 'Actions',
    summary: 'Assign to a person (null: unassign)',
    description:
      "Stores `assignee` as given (trimmed). For one of the business's people send the `assignee` GET /api/people (or GET /api/me) gives them, their id; any other value is stored too, never refused: a downstream tool may assign by ids of its own (a team queue, its own user ids), conversations keep an assignee whose person has left the configuration, and `GET /api/conversations?assignee=` finds them by the same value.",
    auth: 'reply',
    idempotent: true,
    params: conversationId,
    body: AssignBody,
    maxBodyBytes: MAX_ACTION_BODY_BYTES,
    responses: { 200: { description: 'Assigned', schema: ConversationEnvelopeSchema } },
    errors: { 404: ['NOT_FOUND'] },
  },
  {
    method: 'post',
    path: '/api/conversations/:id/notes',
    operationId: 'addNote',
    tag: 'Actions',
    summary: 'Add an internal note (never sent to the customer)',
    auth: 'reply',
    idempotent: true,
    params: conversationId,
    body: NoteBody,
    maxBodyBytes: MAX_ACTION_BODY_BYTES,
    responses: { 201: { description: 'Recorded', schema: MessageEnvelopeSchema } },
    errors: { 404: ['NOT_FOUND'] },
  },

  {
    method: 'post',
    path: '/api/admin/keys',
    operationId: 'createApiKey',
    tag: 'Keys',
    summary: 'Create an API key',
    description:
      "`agentName`, when given, is the person the key's replies are signed by: someone the business configuration lists with a direct contact (people.rota or people.agents, by name or id), else 422 `AGENT_NOT_LISTED`. The key keeps their id (`agentId`) and their name as listed; the id signs its replies, so a rename in the configuration keeps signing as them.",
    auth: 'admin',
    body: CreateKeyBody,
    maxBodyBytes: MAX_KEY_BODY_BYTES,
    responses: { 201: { description: 'Created', schema: CreatedApiKeySchema, headers: noStore } },
    errors: { 422: ['AGENT_NOT_LISTED'] },
  },
  {
    method: 'get',
    path: '/api/admin/keys',
    operationId: 'listApiKeys',
    tag: 'Keys',
    summary: 'List API keys (never their tokens)',
    auth: 'admin',
    responses: { 200: { description: 'Every key, revoked ones too', schema: ApiKeyListSchema } },
  },
  {
    method: 'delete',
    path: '/api/admin/keys/:id',
    operationId: 'revokeApiKey',
    tag: 'Keys',
    summary: 'Revoke an API key',
    auth: 'admin',
    params: { id: ApiKeyIdSchema },
    responses: { 204: { description: 'Revoked' } },
    errors: { 404: ['NOT_FOUND'] },
  },

  {
    method: 'post',
    path: '/api/webhooks',
    operationId: 'createWebhook',
    tag: 'Webhooks',
    summary: 'Subscribe an endpoint to events',
    description: 'In production the URL must be https and must not point at a private address.',
    auth: 'admin',
    // The production flag only changes a refinement, which JSON Schema cannot say anyway.
    body: createBody(true),
    maxBodyBytes: MAX_WEBHOOK_BODY_BYTES,
    responses: { 201: { description: 'Subscribed', schema: CreatedWebhookSchema, headers: noStore } },
  },
  {
    method: 'get',
    path: '/api/webhooks',
    operationId: 'listWebhooks',
    tag: 'Webhooks',
    summary: 'List subscriptions (never their secrets)',
    auth: 'admin',
    responses: { 200: { description: 'Every subscription', schema: WebhookListSchema } },
  },
  {
    method: 'get',
    path: '/api/webhooks/:id',
    operationId: 'getWebhook',
    tag: 'Webhooks',
    summary: 'One subscription',
    auth: 'admin',
    params: { id: WebhookIdSchema },
    responses: { 200: { description: 'The subscription', schema: WebhookViewSchema } },
    errors: { 404: ['NOT_FOUND'] },
  },
  {
    method: 'delete',
    path: '/api/webhooks/:id',
    operationId: 'deleteWebhook',
    tag: 'Webhooks',
    summary: 'Disable a subscription',
    auth: 'admin',
    params: { id: WebhookIdSchema },
    responses: { 204: { description: 'Disabled: nothing more is sent to it' } },
    errors: { 404: ['NOT_FOUND'] },
  },
  {
    method: 'post',
    path: '/api/webhooks/:id/rotate-secret',
    operationId: 'rotateWebhookSecret',
    tag: 'Webhooks',
    summary: 'Give a subscription a new signing secret',
    description:
      'Returns the new secret, this once. For `graceHours` (default 24, at most 168) every delivery is signed with both the new and the old secret: `webhook-signature` lists both signatures, space-separated, as Standard Webhooks provides for rotation, so the receiver accepts deliveries under either while it switches. `graceHours: 0` stops the old secret at once (a leaked one). The subscription, its delivery log and its pending deliveries stay; rotating again during a grace ends that grace.',
    auth: 'admin',
    params: { id: WebhookIdSchema },
    body: RotateSecretBody,
    maxBodyBytes: MAX_WEBHOOK_BODY_BYTES,
    responses: {
      200: { description: 'Rotated', schema: RotatedWebhookSecretSchema, headers: noStore },
    },
    errors: { 404: ['NOT_FOUND'], 409: ['WEBHOOK_DISABLED', 'CONCURRENT_UPDATE'] },
  },
  {
    method: 'get',
    path: '/api/webhooks/:id/deliveries',
    operationId: 'listWebhookDeliveries',
    tag: 'Webhooks',
    summary: "A subscription's deliveries",
    description:
      'Newest first. A delivery stays in the log while it is pending and for 30 days after it was delivered or failed.',
    auth: 'admin',
    params: { id: WebhookIdSchema },
    query: DeliveriesQuery,
    responses: { 200: { description: 'One page', schema: WebhookDeliveryPageSchema } },
    errors: { 404: ['NOT_FOUND'] },
  },
  {
    method: 'post',
    path: '/api/webhooks/:id/replay',
    operationId: 'replayWebhook',
    tag: 'Webhooks',
    summary: 'Send the events since a moment again',
    description:
      "Sends again the events of the subscription's deliveries since `since`: those still in the delivery log (30 days after they settled).",
    auth: 'admin',
    params: { id: WebhookIdSchema },
    body: ReplayBody,
    maxBodyBytes: MAX_WEBHOOK_BODY_BYTES,
    responses: { 202: { description: 'Queued', schema: ReplayStartedSchema } },
    errors: {
      400: ['REPLAY_TOO_LARGE'],
      404: ['NOT_FOUND'],
      409: ['WEBHOOK_DISABLED'],
    },
  },
];
