import type { z } from 'zod';
import type { Scope } from '#lib/domain/api-key.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The error statuses the API answers with, in the shared `{error: {code, message, details?}}` shape. */
export const ERROR_STATUSES = [400, 401, 403, 404, 409, 413, 422, 429, 500, 503] as const;
export type ErrorStatus = (typeof ERROR_STATUSES)[number];

/** A response header; its value is a string. */
export type HeaderDoc = { description: string };

export type ResponseDoc = {
  description: string;
  /** The body; omitted for a response without one (204). */
  schema?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
  headers?: Record<string, HeaderDoc>;
};

/**
 * One route of the HTTP API as documented: method, path, what it takes and what it answers.
 * The schemas are the ones the route itself parses with (exported from its route file) and the
 * views it answers with, so the document cannot describe a different contract from the code.
 */
export type ApiOperation = {
  method: HttpMethod;
  /** As mounted, in Hono's syntax: `/api/conversations/:id`. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** Kept for existing clients; the description names what replaces it. */
  deprecated?: boolean;
  /** The API-key scope the route requires, or `public` for a route without authentication. */
  auth: Scope | 'public';
  /** Behind `idempotent()`: takes an Idempotency-Key, replays answers, may answer its 400/409/422. */
  idempotent?: boolean;
  /** One schema per `:name` in the path. */
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  /** A JSON request body; optional when the schema accepts `undefined`. */
  body?: z.ZodType;
  /**
   * The route's body limit (its `bodyLimit`), in bytes: required with `body`; a larger body is
   * refused with 413 PAYLOAD_TOO_LARGE before anything reads it.
   */
  maxBodyBytes?: number;
  /** The success responses by status. */
  responses: Record<number, ResponseDoc>;
  /**
   * The error codes the route itself answers with, by status. Those of authentication (401,
   * 403), of the Idempotency-Key, of an invalid body or query (400 INVALID_REQUEST), of the body
   * limit (413), of rate limits (429) and of unexpected failures (500) are added from the fields
   * above.
   */
  errors?: Partial<Record<ErrorStatus, readonly string[]>>;
};
