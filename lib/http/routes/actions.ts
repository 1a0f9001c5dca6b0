import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { ChannelSchema } from '#lib/domain/channel.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { IdempotencyStore } from '#lib/ports/idempotency-store.ts';
import { SWITCHED_OFF_WAIT_MS } from '#lib/use-cases/ack-lookups.ts';
import {
  type Agent,
  type AgentDeps,
  type AssignResult,
  addNote,
  assign,
  type ChangeResult,
  type ResolveResult,
  reopen,
  resolve,
} from '#lib/use-cases/agent-actions.ts';
import { sendReply } from '#lib/use-cases/send-reply.ts';
import { type AuthEnv, requireScope } from '../auth.ts';
import { bodyLimit } from '../body-limit.ts';
import { agentNotListed, errorBody, NotFoundError, parseRequest, readJsonBody } from '../errors.ts';
import { type ActingEnv, idempotent } from '../idempotency.ts';
import { conversationView, messageView } from '../views.ts';
import { ConversationId } from './api.ts';

/** The longest note (10,000 characters) JSON-escaped, with room to spare. */
export const MAX_ACTION_BODY_BYTES = 64 * 1024;

export const ReplyBody = z.strictObject({
  text: z.string().trim().min(1).max(4000),
  channel: ChannelSchema.optional(),
});
export const NoteBody = z.strictObject({ text: z.string().trim().min(1).max(10_000) });
export const AssignBody = z.strictObject({ assignee: z.string().trim().min(1).max(200).nullable() });
export const EmptyBody = z.strictObject({}).optional();
export const ResolveBody = z
  .strictObject({
    seenUntil: z.iso.datetime({ offset: true }).optional().meta({
      description:
        'The newest `createdAt` (or `recordedAt`, where a message has one) of the messages the agent saw: if the customer wrote after it, or a message of theirs recorded late was stored after it, the conversation is not resolved (409 CUSTOMER_WROTE)',
    }),
  })
  .optional();

/** 409 CONTACT_HAS_OPEN_CONVERSATION, the open one's id in `details.conversationId` (never parse the message). */
function otherOpen(c: Context, conversationId: string, message: string) {
  return c.json(
    errorBody('CONTACT_HAS_OPEN_CONVERSATION', `${message} (${conversationId})`, { conversationId }),
    409,
  );
}

/** 422 TEXT_TOO_LONG: the channel's limit, what the signature takes of it, and what is left for the text. */
function tooLong(result: Extract<Awaited<ReturnType<typeof sendReply>>, { kind: 'too-long' }>) {
  const { channel, limit, signed, signature } = result;
  const unit = limit.bytes !== undefined && signed.bytes > limit.bytes ? 'bytes' : 'chars';
  const max = (unit === 'bytes' ? limit.bytes : limit.chars) ?? 0;
  const words = unit === 'bytes' ? 'bytes (UTF-8)' : 'characters';
  if (result.template) {
    return errorBody(
      'TEXT_TOO_LONG',
      `The 24-hour window on ${channel} is closed, so this reply goes as an approved template, whose text parameter takes at most ${max} ${words} (line breaks become " / "; the signature is a parameter of its own): this one would be ${signed[unit]}; shorten the text to ${max} ${words} or fewer`,
      { channel, unit, limit: max, signature: 0, length: signed[unit], maxText: max, template: true },
    );
  }
  return errorBody(
    'TEXT_TOO_LONG',
    `A reply on ${channel} takes at most ${max} ${words} with its signature, which takes ${signature[unit]}: this one would be ${signed[unit]}; shorten the text to ${max - signature[unit]} ${words} or fewer`,
    {
      channel,
      unit,
      limit: max,
      signature: signature[unit],
      length: signed[unit],
      maxText: max - signature[unit],
    },
  );
}

/**
 * 409 OUTSIDE_WINDOW, with what the agent can do: on WhatsApp, where a reply after 24 hours goes
 * as the approved template configured for the conversation's locale, which configuration is
 * missing (`details`), so that they can ask for it.
 */
function outsideWindow(result: Extract<Awaited<ReturnType<typeof sendReply>>, { kind: 'outside-window' }>) {
  if (result.channel === 'messenger' || result.channel === 'instagram') {
    return errorBody(
      'OUTSIDE_WINDOW',
      `The messaging window on ${result.channel} is closed (a person may answer for 7 days after the customer's last message): the customer has to write again`,
    );
  }
  if (!result.template) {
    return errorBody(
      'OUTSIDE_WINDOW',
      `The 24-hour window on ${result.channel} is closed: only an approved template can be sent`,
    );
  }
  const { locale, provider } = result.template;
  const key = provider === 'meta' ? 'meta (name, language)' : 'twilio (contentSid)';
  return errorBody(
    'OUTSIDE_WINDOW',
    `The 24-hour window on ${result.channel} is closed (the customer last wrote more than 24 hours ago): a reply now goes only as an approved template, and none is configured for ${locale === 'pl' ? 'Polish' : 'English'} on ${provider === 'meta' ? 'the WhatsApp Cloud API' : 'Twilio'}. Answer on another channel or wait for the customer to write again; ops can add whatsapp.replyTemplates.${locale}.${key} to switchboard.config.json (docs/channels.md)`,
    { channel: result.channel, locale, provider, configure: `whatsapp.replyTemplates.${locale}.${provider}` },
  );
}

/**
 * 503 CHANNEL_MISCONFIGURED: sending on the provider is switched off in this deployment (its
 * configuration is incomplete). A 5xx keeps no idempotency answer: the same key sends the reply
 * once it is completed; Retry-After is the cycle on which waiting acks are tried.
 */
function switchedOff(c: Context, provider: string) {
  const name = provider === 'twilio' ? 'Twilio' : provider === 'meta' ? 'Meta' : 'email';
  c.header('retry-after', String(SWITCHED_OFF_WAIT_MS / 1000));
  return c.json(
    errorBody(
      'CHANNEL_MISCONFIGURED',
      `Sending through ${name} is switched off in this deployment until its configuration is completed (ops are alerted): the reply was not sent. Retry with the same Idempotency-Key later, or answer on another channel`,
      { provider },
    ),
    503,
  );
}

/**
 * 500 TEMPLATE_REFUSED: the provider refused the template we are configured to send, which ops
 * fix (a 5xx keeps no idempotency answer: the same key sends the reply once it is fixed).
 */
function templateRefused(
  result: Extract<Awaited<ReturnType<typeof sendReply>>, { kind: 'template-refused' }>,
) {
  const { provider, template, providerCode } = result;
  const named = template.language ? `"${template.name}" (${template.language})` : template.name;
  return errorBody(
    'TEMPLATE_REFUSED',
    `${provider === 'meta' ? 'WhatsApp' : 'Twilio'} refused the reply template ${named} configured in switchboard.config.json (whatsapp.replyTemplates), error ${providerCode}: the configuration or the template needs fixing, nothing about the customer or your text. The reply was not sent: retry with the same Idempotency-Key once it is fixed`,
    { provider, template, providerCode },
  );
}

/**
 * What agents do through their tool: reply, resolve, reopen, assign, note. Each needs the
 * `reply` scope and an Idempotency-Key (a retry returns the first answer, never a second send).
 */
export function actionRoutes(
  deps: AgentDeps & { idempotency: IdempotencyStore; clock: Clock },
): Hono<ActingEnv> {
  const routes = new Hono<ActingEnv>();
  // On each action's own route, so that only a POST to one of them, with a well-formed id, writes
  // an idempotency record (its key holds the path: an unbounded one would not fit DynamoDB's key).
  const wellFormedId: MiddlewareHandler<AuthEnv> = async (c, next) => {
    if (!ConversationId.safeParse(c.req.param('id')).success) throw new NotFoundError('Conversation');
    await next();
  };
  // Refused with 413 before anything reads the body (the idempotency check hashes it whole).
  const acting = [
    bodyLimit(MAX_ACTION_BODY_BYTES),
    requireScope('reply'),
    wellFormedId,
    idempotent(deps),
  ] as const;

  const agentOf = (principal: AuthEnv['Variables']['principal']): Agent => ({
    keyId: principal.keyId,
    name: principal.agentName,
    id: principal.agentId,
  });
  const changed = <R extends ChangeResult | ResolveResult | AssignResult>(
    result: R,
  ): Exclude<R, { kind: 'not-found' }> => {
    if (result.kind === 'not-found') throw new NotFoundError('Conversation');
    return result as Exclude<R, { kind: 'not-found' }>;
  };

  routes.post('/conversations/:id/replies', ...acting, async (c) => {
    const id = c.req.param('id');
    const body = parseRequest(ReplyBody, await readJsonBody(c.req.raw));
    const result = await sendReply(deps, {
      conversationId: id,
      text: body.text,
      ...(body.channel ? { channel: body.channel } : {}),
      agent: agentOf(c.get('principal')),
      requestKey: c.get('requestKey'),
      legacyRequestKey: c.get('legacyRequestKey'),
    });
    switch (result.kind) {
      case 'not-found':
        throw new NotFoundError('Conversation');
      case 'outside-window':
        return c.json(outsideWindow(result), 409);
      case 'template-refused':
        return c.json(templateRefused(result), 500);
      case 'no-route':
        return c.json(errorBody('NO_ROUTE', `This contact cannot be answered on ${result.channel}`), 409);
      case 'other-open':
        return otherOpen(
          c,
          result.conversationId,
          'This conversation is resolved and the contact has an open one: reply there',
        );
      case 'agent-not-listed':
        return c.json(errorBody('AGENT_NOT_LISTED', agentNotListed(result.agentName)), 422);
      case 'rejected':
        return c.json(
          errorBody('PROVIDER_REJECTED', `The provider refused the message (${result.reason})`, {
            provider: result.provider,
            reason: result.reason,
          }),
          422,
        );
      case 'too-long':
        return c.json(tooLong(result), 422);
      case 'switched-off':
        return switchedOff(c, result.provider);
      case 'uncertain':
        // A 5xx, so the idempotency record keeps no answer and the retry runs again.
        c.header('retry-after', String(result.retryAfterSeconds));
        return c.json(
          errorBody(
            'SEND_UNCERTAIN',
            `The provider did not answer: the reply may have reached the customer. Retry with the same Idempotency-Key in ${result.retryAfterSeconds} s: it is looked up and sent only if it did not go (a new key sends it again)`,
          ),
          503,
        );
      case 'sent':
        return c.json(
          { message: messageView(result.message), conversation: conversationView(result.conversation) },
          201,
        );
    }
  });

  routes.post('/conversations/:id/resolve', ...acting, async (c) => {
    const body = parseRequest(ResolveBody, await readJsonBody(c.req.raw));
    const result = changed(
      await resolve(deps, c.req.param('id'), agentOf(c.get('principal')), {
        ...(body?.seenUntil ? { seenUntil: new Date(body.seenUntil) } : {}),
      }),
    );
    if (result.kind === 'customer-wrote') {
      return c.json(
        errorBody(
          'CUSTOMER_WROTE',
          'The customer wrote after the newest message you saw: read it first. details.seenUntil is when their newest message became readable (a message recorded late is listed by when it was received, perhaps further back: its recordedAt is this time); send it once the agent has seen it',
          { seenUntil: new Date(result.lastReadableAt).toISOString() },
        ),
        409,
      );
    }
    return c.json({ conversation: conversationView(result.conversation) });
  });

  routes.post('/conversations/:id/reopen', ...acting, async (c) => {
    parseRequest(EmptyBody, await readJsonBody(c.req.raw));
    const result = changed(await reopen(deps, c.req.param('id'), agentOf(c.get('principal'))));
    if (result.kind === 'other-open')
      return otherOpen(c, result.conversationId, 'The contact has another open conversation');
    return c.json({ conversation: conversationView(result.conversation) });
  });

  routes.post('/conversations/:id/assign', ...acting, async (c) => {
    const body = parseRequest(AssignBody, await readJsonBody(c.req.raw));
    const result = changed(await assign(deps, c.req.param('id'), body.assignee, agentOf(c.get('principal'))));
    return c.json({ conversation: conversationView(result.conversation) });
  });

  routes.post('/conversations/:id/notes', ...acting, async (c) => {
    const body = parseRequest(NoteBody, await readJsonBody(c.req.raw));
    const result = await addNote(deps, {
      conversationId: c.req.param('id'),
      text: body.text,
      agent: agentOf(c.get('principal')),
      requestKey: c.get('requestKey'),
      legacyRequestKey: c.get('legacyRequestKey'),
    });
    if (result.kind === 'not-found') throw new NotFoundError('Conversation');
    return c.json({ message: messageView(result.message) }, 201);
  });

  return routes;
}
