import { Hono } from 'hono';
import { z } from 'zod';
import type { ConversationStore } from '#lib/ports/conversation-store.ts';
import { NotFoundError } from '../errors.ts';
import { conversationView, messageView } from '../views.ts';

const ListConversationsQuery = z.strictObject({
  status: z.enum(['open', 'resolved']).default('open'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().min(1).max(2048).optional(),
});

const ConversationId = z.string().regex(/^conv_[0-9a-z]{26}$/);

/** The agents' read API, mounted at /api behind bearer auth. */
export function apiRoutes(deps: { store: ConversationStore }): Hono {
  const routes = new Hono();

  routes.get('/conversations', async (c) => {
    const query = ListConversationsQuery.parse(c.req.query());
    const page = await deps.store.listConversations(query);
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

  return routes;
}
