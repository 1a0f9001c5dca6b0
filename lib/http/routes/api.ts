import { Hono } from 'hono';
import { z } from 'zod';
import { ChannelSchema } from '#lib/domain/channel.ts';
import { ContactKeySchema } from '#lib/domain/contact.ts';
import { contactAddress, contactDisplayName } from '#lib/domain/contact-label.ts';
import type { Message } from '#lib/domain/message.ts';
import type { Clock } from '#lib/ports/clock.ts';
import { type ConversationStore, MAX_CURSOR_LENGTH } from '#lib/ports/conversation-store.ts';
import { InvalidCursorError } from '#lib/ports/errors.ts';
import type { Log } from '#lib/ports/logger.ts';
import { NotFoundError, parseRequest } from '../errors.ts';
import { conversationView, type MessageView, messageView, optOutView } from '../views.ts';

const flag = z.enum(['true', 'false']).transform((value) => value === 'true');

export const ListConversationsQuery = z
  .strictObject({
    status: z.enum(['open', 'resolved']).default('open'),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().min(1).max(MAX_CURSOR_LENGTH).optional(),
    channel: ChannelSchema.optional(),
    assignee: z.string().min(1).max(200).optional(),
    awaiting: flag.optional(),
    overdue: flag.optional(),
    noReplyNeeded: flag.optional(),
    order: z.enum(['lastActivity', 'replyBy']).default('lastActivity'),
  })
  .superRefine((query, ctx) => {
    const waiting = query.awaiting || query.overdue || query.order === 'replyBy';
    const filters = [
      waiting,
      query.noReplyNeeded,
      query.channel !== undefined,
      query.assignee !== undefined,
    ].filter(Boolean).length;
    // Each listing has an index of its own; combining them would mean filtering (reading more).
    if (filters > 1)
      ctx.addIssue({
        code: 'custom',
        message: 'use one of channel, assignee, awaiting/overdue/order=replyBy, noReplyNeeded at a time',
      });
    if ((waiting || query.noReplyNeeded) && query.status !== 'open')
      ctx.addIssue({ code: 'custom', path: ['status'], message: 'waiting conversations are open' });
  });

export const ConversationId = z.string().regex(/^conv_[0-9a-z]{26}$/);

/** Messages a page of GET /api/conversations/:id holds by default, and at most. */
export const DEFAULT_MESSAGE_PAGE = 100;
export const MAX_MESSAGE_PAGE = 200;
/**
 * The JSON of a page's messages stops growing past this: the http function's answer goes back
 * through Lambda, which refuses a response over 6 MB, and inside Lambda's own JSON envelope the
 * body's escaping can double it. One message always fits (a stored item stays under 400 KB).
 */
export const MAX_MESSAGE_PAGE_BYTES = 2 * 1024 * 1024;

export const ConversationMessagesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_MESSAGE_PAGE).default(DEFAULT_MESSAGE_PAGE).meta({
    description: `Messages in the page, at most (fewer when they are long: a page stays under 2 MB)`,
  }),
  cursor: z
    .string()
    .min(1)
    .max(MAX_CURSOR_LENGTH)
    .optional()
    .meta({ description: 'The `nextCursor` of the page before: the messages older than it' }),
});

/** GET /api/contacts?key=…: the key in the query string, which the access log never records. */
export const ContactQuery = z.strictObject({
  key: ContactKeySchema.meta({
    description:
      'The contact key (URL-encoded, as any query value): `phone:+48…` (SMS, MMS, WhatsApp and calls from a number), `email:…`, `messenger:<PSID>`, `instagram:<IGSID>`, `whatsapp:<BSUID>` (a WhatsApp user known only by their business-scoped id, without a number), `sip:<user>@<host>`, `client:<identity>`',
  }),
});

/** The agents' read API, mounted at /api behind bearer auth. */
export function apiRoutes(deps: { store: ConversationStore; clock: Clock; log: Log }): Hono {
  const routes = new Hono();

  routes.get('/conversations', async (c) => {
    const query = parseRequest(ListConversationsQuery, c.req.query());
    const page = await deps.store.listConversations({
      ...query,
      awaiting: query.awaiting || query.order === 'replyBy',
      now: deps.clock.now(),
    });
    for (const { key, fields } of page.unreadable) {
      // The agents still get the rest of the page; the key lets someone repair the item.
      deps.log.error('listing skipped a conversation item it cannot read', { key, fields });
    }
    return c.json({ items: page.items.map(conversationView), nextCursor: page.nextCursor });
  });

  // The conversation and its latest messages, oldest first; `nextCursor` pages back in time.
  routes.get('/conversations/:id', async (c) => {
    const id = c.req.param('id');
    if (!ConversationId.safeParse(id).success) throw new NotFoundError('Conversation');
    const query = parseRequest(ConversationMessagesQuery, c.req.query());
    const before = query.cursor === undefined ? undefined : decodeMessageCursor(query.cursor, id);
    // One more than the page: whether older ones remain, without another read.
    const [conversation, messages] = await Promise.all([
      deps.store.getConversation(id),
      deps.store.listMessages(id, { limit: query.limit + 1, before }),
    ]);
    if (!conversation) throw new NotFoundError('Conversation');
    const page = newestWithin(messages.slice(-query.limit), MAX_MESSAGE_PAGE_BYTES);
    const oldest = page[0];
    const more = messages.length > page.length;
    // Whether (and why) its contact gets no automatic messages: one more read, in this answer only
    // (a listing reads no contact).
    const contact = await deps.store.getContact(conversation.contact.key);
    return c.json({
      conversation: conversationView(conversation),
      optedOut: optOutView(contact),
      messages: page,
      nextCursor: more && oldest ? encodeMessageCursor(id, oldest) : null,
    });
  });

  // The person behind a contact key (phone:+48…, email:…, messenger:<PSID>), their channels
  // and conversations, newest first: one GetItem and one GetItem per conversation, no Query.
  // The key goes in the query string: the API Gateway access log records paths, never queries,
  // and a key is a phone number or an address.
  routes.get('/contacts', async (c) => {
    const { key } = parseRequest(ContactQuery, c.req.query());
    return c.json(await contactDetail(deps.store, key));
  });

  // The first form, kept for the clients that use it: its key lands in the access log's path.
  routes.get('/contacts/:key', async (c) => {
    // Hono hands the parameter decoded: decoding again would turn a literal % into a URIError.
    const key = c.req.param('key');
    // A key no channel makes (a scheme as long as the URL, say) names nobody, and is no
    // DynamoDB key either: 404 before it reaches the store as a ValidationException (500).
    if (!ContactKeySchema.safeParse(key).success) throw new NotFoundError('Contact');
    return c.json(await contactDetail(deps.store, key));
  });

  return routes;
}

/** A contact with their newest conversations (at most 50); 404 for a key nobody has. */
async function contactDetail(store: ConversationStore, key: string) {
  const contact = await store.getContact(key);
  if (!contact) throw new NotFoundError('Contact');
  const ids = [...new Set(contact.conversationIds)].reverse().slice(0, 50);
  const conversations = (await Promise.all(ids.map((id) => store.getConversation(id)))).filter(
    (conversation) => conversation !== null,
  );
  const displayName = contactDisplayName(contact);
  const address = contactAddress(contact.key);
  const optedOut = optOutView(contact);
  return {
    contact: {
      key: contact.key,
      ...(contact.name ? { name: contact.name } : {}),
      ...(displayName ? { displayName } : {}),
      ...(address ? { address } : {}),
      channels: contact.channels,
      optedOut: contact.optedOut,
      ...(optedOut
        ? { optedOutReason: optedOut.reason, ...(optedOut.at ? { optedOutAt: optedOut.at } : {}) }
        : {}),
      ...(contact.locale ? { locale: contact.locale } : {}),
      createdAt: contact.createdAt,
    },
    conversations: conversations.map(conversationView),
  };
}

/** The views of the newest of `messages` (oldest first) whose JSON stays within `maxBytes`; at least one. */
function newestWithin(messages: Message[], maxBytes: number): MessageView[] {
  const page: MessageView[] = [];
  let bytes = 0;
  for (let index = messages.length - 1; index >= 0; index--) {
    const view = messageView(messages[index] as Message);
    bytes += Buffer.byteLength(JSON.stringify(view)) + 1;
    if (bytes > maxBytes && page.length > 0) break;
    page.push(view);
  }
  return page.reverse();
}

// A page's cursor is the place of its oldest message, bound to its conversation: opaque to
// clients (base64url JSON), refused (400) for another conversation or in any other shape.
const MessageCursor = z.tuple([ConversationId, z.iso.datetime(), z.string().regex(/^msg_[0-9a-z]{1,64}$/)]);

function encodeMessageCursor(conversationId: string, message: MessageView): string {
  return Buffer.from(JSON.stringify([conversationId, message.createdAt, message.id])).toString('base64url');
}

function decodeMessageCursor(cursor: string, conversationId: string): { createdAt: string; id: string } {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  const parsed = MessageCursor.safeParse(decoded);
  if (!parsed.success || parsed.data[0] !== conversationId) throw new InvalidCursorError();
  return { createdAt: parsed.data[1], id: parsed.data[2] };
}
