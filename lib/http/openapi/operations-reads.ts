// The API's reads: conversations, contacts, the service level, the calling key and the people.

import { ContactKeySchema } from '#lib/domain/contact.ts';
import {
  ContactQuery,
  ConversationId,
  ConversationMessagesQuery,
  ListConversationsQuery,
} from '../routes/api.ts';
import { WhoAmISchema } from '../routes/me.ts';
import { PeopleSchema } from '../routes/people.ts';
import { ServiceLevelQuerySchema } from '../routes/service-level.ts';
import type { ApiOperation } from './operation.ts';
import {
  ContactDetailSchema,
  ConversationDetailSchema,
  ConversationPageSchema,
  ServiceLevelReportSchema,
} from './schemas.ts';

export const conversationId = {
  id: ConversationId.meta({ description: 'conv_…; any other shape is a 404' }),
};

/** The reads' entries of OPERATIONS, in its order. */
export const READ_OPERATIONS: readonly ApiOperation[] = [
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
];
