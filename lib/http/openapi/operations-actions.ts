// The API's actions on a conversation: reply, resolve, reopen, assign, add a note.

import {
  AssignBody,
  EmptyBody,
  MAX_ACTION_BODY_BYTES,
  NoteBody,
  ReplyBody,
  ResolveBody,
} from '../routes/actions.ts';
import type { ApiOperation } from './operation.ts';
import { conversationId } from './operations-reads.ts';
import { ConversationEnvelopeSchema, MessageEnvelopeSchema, ReplySentSchema } from './schemas.ts';

/** The actions' entries of OPERATIONS, in its order. */
export const ACTION_OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'post',
    path: '/api/conversations/:id/replies',
    operationId: 'sendReply',
    tag: 'Actions',
    summary: 'Reply to the customer',
    description:
      "Sent on the conversation's channel (or `channel`, one of the contact's), signed by a named person with a direct contact: the key's agent name, with their phone or email as the business configuration lists them (the rota, or `people.agents`; an email comes under their name), 422 `AGENT_NOT_LISTED` when it no longer lists them; a key without an agent name signs as the person the conversation's promise named. A resolved conversation may be answered (a follow-up), unless the contact waits for a person in another, open one (not one already answered, nor one only their out-of-office reply or HELP opened): then 409 `CONTACT_HAS_OPEN_CONVERSATION` with its id in `details.conversationId` (answer there, where the customer waits: a reply on the old one would not stop their clock). The text with its signature must fit what the channel's provider takes in one message (Twilio SMS, MMS and WhatsApp 1,600 characters, Messenger 2,000, Instagram 1,000 bytes of UTF-8, WhatsApp Cloud API 4,096; characters counted as UTF-16 code units, an emoji as two): a longer one is refused with 422 `TEXT_TOO_LONG` before anything is sent, `details` naming the `unit` (`chars` or `bytes`), the `limit`, what the `signature` takes and `maxText`, the longest text that fits; it is never cut. A reply the provider refuses for good (an unsubscribed number, an invalid one) is 422 `PROVIDER_REJECTED`, `details` naming the `provider` and the `reason` (`SEND_REJECTED:<the provider's code>`). Outside the messaging window: on Messenger and Instagram within 7 days of the customer's last message it goes tagged `HUMAN_AGENT`, after that 409 `OUTSIDE_WINDOW`; on WhatsApp (Cloud API or Twilio), more than 24 hours after it, it goes as the approved template the business configuration names for the conversation's locale (`whatsapp.replyTemplates`), `{{1}}` the text (line breaks as ' / ', runs of whitespace as one space: WhatsApp takes no newline, tab or more than four spaces in a parameter) and `{{2}}` the signature; the message then has `template`, and its text parameter takes at most 1,024 characters (422 `TEXT_TOO_LONG` with `details.template` true). With none configured it is 409 `OUTSIDE_WINDOW`, `details` naming the `locale`, `provider` and the setting to `configure`. When the provider refuses the template itself (its name, language, parameter count or status: our configuration, never the customer) the answer is 500 `TEMPLATE_REFUSED`, `details` naming the `template` and the provider's code: retry with the same Idempotency-Key once it is fixed. When the provider took the request but no answer came (a timeout), the reply may have gone: 503 `SEND_UNCERTAIN` with `Retry-After`; the retry with the same Idempotency-Key looks it up at the provider where it can (Twilio's Messages list; on Meta, the echo or status Meta sent for it) and sends it only when it did not go, and not before `Retry-After` (5 minutes) without a sign of it. While sending on the conversation's provider is switched off in this deployment (its configuration incomplete: a secret that lost Twilio's account SID, say), the reply is refused before anything is sent or stored: 503 `CHANNEL_MISCONFIGURED` with `Retry-After` and `details.provider`; retry with the same Idempotency-Key once ops have completed it.",
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
      503: ['SEND_UNCERTAIN', 'CHANNEL_MISCONFIGURED'],
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
];
