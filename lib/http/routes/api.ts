import { Hono } from 'hono';
import { z } from 'zod';
import { ChannelSchema } from '#lib/domain/channel.ts';
import type { Clock } from '#lib/ports/clock.ts';
import { type ConversationStore, MAX_CURSOR_LENGTH } from '#lib/ports/conversation-store.ts';
import { NotFoundError } from '../errors.ts';
import { conversationView, messageView } from '../views.ts';

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
    order: z.enum(['lastActivity', 'replyBy']).default('lastActivity'),
  })
  .superRefine((query, ctx) => {
    const waiting = query.awaiting || query.overdue || query.order === 'replyBy';
    const filters = [waiting, query.channel !== undefined, query.assignee !== undefined].filter(
      Boolean,
    ).length;
    // Each listing has an index of its own; combining them would mean filtering (reading more).
    if (filters > 1)
      ctx.addIssue({
        code: 'custom',
        message: 'use one of channel, assignee, awaiting/overdue/order=replyBy at a time',
      });
    if (waiting && query.status !== 'open')
      ctx.addIssue({ code: 'custom', path: ['status'], message: 'waiting conversations are open' });
  });

export const ConversationId = z.string().regex(/^conv_[0-9a-z]{26}$/);

/** The agents' read API, mounted at /api behind bearer auth. */
export function apiRoutes(deps: { store: ConversationStore; clock: Clock }): Hono {
  const routes = new Hono();

  routes.get('/conversations', async (c) => {
    const query = ListConversationsQuery.parse(c.req.query());
    const page = await deps.store.listConversations({
      ...query,
      awaiting: query.awaiting || query.order === 'replyBy',
      now: deps.clock.now(),
    });
    return c.json({ items: page.items.map(conversationView), nextCursor: page.nextCursor });
  });

  routes.get('/conversations/:id', async (c) => {
    const id = c.req.param('id');
    if (!ConversationId.safeParse(id).success) throw new NotFoundError('Conversation');
    const conversation = await deps.store.getConversation(id);
    if (!conversation) throw new NotFoundError('Conversation');
    const messages = await deps.store.listMessages(id);
    return c.json({ conversation: conversationView(conversation), messages: messages.map(messageView) });
  });

  // The person behind a contact key (phone:+48…, email:…, messenger:<PSID>), their channels
  // and conversations, newest first: one GetItem and one GetItem per conversation, no Query.
  routes.get('/contacts/:key', async (c) => {
    // Hono hands the parameter decoded: decoding again would turn a literal % into a URIError.
    const key = c.req.param('key');
    if (!/^[a-z-]+:.{1,300}$/.test(key)) throw new NotFoundError('Contact');
    const contact = await deps.store.getContact(key);
    if (!contact) throw new NotFoundError('Contact');
    const ids = [...new Set(contact.conversationIds)].reverse().slice(0, 50);
    const conversations = (await Promise.all(ids.map((id) => deps.store.getConversation(id)))).filter(
      (conversation) => conversation !== null,
    );
    return c.json({
      contact: {
        key: contact.key,
        ...(contact.name ? { name: contact.name } : {}),
        channels: contact.channels,
        optedOut: contact.optedOut,
        ...(contact.locale ? { locale: contact.locale } : {}),
        createdAt: contact.createdAt,
      },
      conversations: conversations.map(conversationView),
    });
  });

  return routes;
}
