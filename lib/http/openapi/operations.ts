// Every documented route of the HTTP API: the meta routes here, then each area's in its module.

import { z } from 'zod';
import type { ApiOperation } from './operation.ts';
import { ACTION_OPERATIONS } from './operations-actions.ts';
import { ADMIN_OPERATIONS } from './operations-admin.ts';
import { READ_OPERATIONS } from './operations-reads.ts';

/**
 * Every route of the HTTP API but the providers' webhooks, one entry each: documenting a new
 * route is adding its entry here or in its area's list (test/http/openapi.test.ts fails for a
 * route without one).
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

  ...READ_OPERATIONS,

  ...ACTION_OPERATIONS,

  ...ADMIN_OPERATIONS,
];
