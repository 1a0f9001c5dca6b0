import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError, type z } from 'zod';
import { MalformedPayloadError, type VerifyOutcome } from '#lib/channels/channel.ts';
import { InvalidCursorError, NotYetError, SwitchboardError } from '#lib/ports/errors.ts';
import type { Log } from '#lib/ports/logger.ts';

const SIGNATURE_REFUSALS = {
  missing: ['SIGNATURE_MISSING', 'The request is not signed'],
  invalid: ['SIGNATURE_INVALID', 'The request signature does not match'],
  expired: ['SIGNATURE_EXPIRED', 'The request was signed too long ago'],
  // Answered as a mismatch: a forger learns nothing of which sources we accept.
  'unknown-source': ['SIGNATURE_INVALID', 'The request signature does not match'],
  'unsupported-algorithm': ['SIGNATURE_INVALID', 'The request signature does not match'],
  'unconfigured-key': ['SIGNATURE_INVALID', 'The request signature does not match'],
} as const;

/** A webhook whose signature is missing, wrong or too old: 403, nothing stored. */
export class SignatureError extends SwitchboardError {
  readonly outcome: Exclude<VerifyOutcome, 'ok'>;
  constructor(outcome: Exclude<VerifyOutcome, 'ok'>) {
    const [code, message] = SIGNATURE_REFUSALS[outcome];
    super(code, message);
    this.outcome = outcome;
  }
}

/** A resource the caller asked for does not exist. */
export class NotFoundError extends SwitchboardError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`);
  }
}

/**
 * A request whose query, params or body its route's schema refused: 400 with the issues (the
 * paths into what the caller sent, never its values). Thrown by `parseRequest` only: a ZodError
 * from anywhere else (an item in the store, data we made) is our fault, not the caller's.
 */
export class InvalidRequestError extends SwitchboardError {
  readonly issues: string[];
  constructor(error: ZodError | { message: string; issues: string[] }) {
    super('INVALID_REQUEST', error instanceof ZodError ? 'The request is not valid' : error.message);
    this.issues =
      error instanceof ZodError
        ? error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
        : error.issues;
  }
}

/**
 * The JSON body of an API request: `undefined` when it is empty (the route's schema says whether
 * that will do), a 400 INVALID_REQUEST when it is not JSON. One reader for every API route, so
 * they answer one documented code (MALFORMED_PAYLOAD is a provider webhook's, not the API's).
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidRequestError({ message: 'The body is not JSON', issues: ['(root): invalid_json'] });
  }
}

/**
 * Parses what the caller sent with the route's schema; a refusal is the caller's 400.
 * Hand-written rather than @hono/zod-validator (not installed): the routes keep their own body
 * reading (readJsonBody: an empty body is `undefined`, bad JSON this same 400) and one error shape.
 */
export function parseRequest<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidRequestError(result.error);
  return result.data;
}

const NOT_YET_RETRY_AFTER_SECONDS = 60;

/**
 * Why a key's agent name cannot sign (422 AGENT_NOT_LISTED), and the fix: every reply is signed
 * by a person the customer can reach directly, so only someone listed with a contact may sign.
 */
export function agentNotListed(agentName: string): string {
  return `"${agentName}" is not listed in the business configuration (switchboard.config.json: people.rota, or people.agents for someone not on duty) with a phone or email, so a reply cannot be signed with their direct contact: list them there and deploy, or use a key of someone listed`;
}

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

/**
 * The one mapping from errors to HTTP: signature 403, a request its schema refused 400, size
 * 413, unknown 404, not yet 503, anything unexpected 500 (so the provider retries), our own data
 * failing its schema included. Never a stack trace in a response.
 */
export function handleError(log: Log) {
  return (error: Error, c: Context) => {
    if (error instanceof SignatureError) return c.json(errorBody(error.code, error.message), 403);
    if (error instanceof MalformedPayloadError)
      return c.json(errorBody(error.code, error.message, error.issues), 400);
    if (error instanceof InvalidCursorError) return c.json(errorBody(error.code, error.message), 400);
    if (error instanceof NotFoundError) return c.json(errorBody(error.code, error.message), 404);
    if (error instanceof NotYetError) {
      // Expected now and then (callbacks out of order): a line to follow, not a stack to debug.
      log.warn('request refused until what it needs is stored; the provider retries', { code: error.code });
      c.header('retry-after', String(NOT_YET_RETRY_AFTER_SECONDS));
      return c.json(errorBody(error.code, error.message), 503);
    }
    if (error instanceof InvalidRequestError) {
      return c.json(errorBody(error.code, error.message, error.issues), 400);
    }
    if (error instanceof ZodError) {
      // Not the request (parseRequest): data we stored or made that this release cannot read
      // (an item a newer release wrote, say). Our fault, so 500 and the caller may retry; the
      // log names the fields, never their values.
      const fields = [...new Set(error.issues.map((issue) => issue.path.join('.') || '(root)'))].slice(0, 10);
      log.error('data does not match its schema', { fields, where: topFunction(error) });
      return c.json(errorBody('INTERNAL', 'Internal error; the request can be retried'), 500);
    }
    if (error instanceof HTTPException) {
      const response = error.getResponse();
      if (response.headers.get('content-type')?.includes('application/json')) return response;
      const status = error.status as ContentfulStatusCode;
      return c.json(errorBody(codeForStatus(status), error.message || 'Request failed'), status);
    }
    // Its name and code only: a message may quote input (a phone number, a key) and a stack
    // names our files; neither belongs in a log line (the request id finds the rest).
    const where = topFunction(error);
    const code = (error as { code?: unknown }).code;
    log.error('unexpected error', {
      error: error.name,
      // Ours, or Node's (ECONNREFUSED): a short word, never input.
      ...(typeof code === 'string' && /^[A-Z0-9_]{1,40}$/i.test(code) ? { code } : {}),
      ...(where ? { where } : {}),
    });
    return c.json(errorBody('INTERNAL', 'Internal error; the request can be retried'), 500);
  };
}

function codeForStatus(status: number): string {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 404) return 'NOT_FOUND';
  return 'REQUEST_FAILED';
}

/** The name of the function that threw (no file, no line): enough to find it, nothing to leak. */
function topFunction(error: Error): string | undefined {
  // The frames only: the stack opens with "Name: message", and a message may hold a line
  // that starts with "at ".
  const frames = error.stack?.slice(String(error).length) ?? '';
  const frame = frames.split('\n').find((line) => line.trimStart().startsWith('at '));
  const name = frame?.trim().slice(3).split(' ')[0];
  return name && /^[\w$.<>]+$/.test(name) && !name.includes('/') ? name.slice(0, 100) : undefined;
}
