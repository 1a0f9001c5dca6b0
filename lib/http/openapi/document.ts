import type { z } from 'zod';
import { FAILED_LOGIN_BUDGET, LOCAL_FAILED_LOGIN_BUDGET } from '../failed-logins.ts';
import type { ApiOperation, ErrorStatus, HeaderDoc, ResponseDoc } from './operation.ts';
import { type Json, SCHEMA_REF, SchemaSet } from './schema-set.ts';
import { IdempotencyKeySchema, NAMED_SCHEMAS } from './schemas.ts';

export type OpenApiDocument = {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers?: Array<{ url: string }>;
  security: Array<Record<string, string[]>>;
  tags: Array<{ name: string }>;
  paths: Record<string, Record<string, Json>>;
  components: {
    schemas: Record<string, Json>;
    parameters: Record<string, Json>;
    securitySchemes: Record<string, Json>;
  };
};

const ERROR_REF = { $ref: `${SCHEMA_REF}Error` };

const DESCRIPTION = `The agents' side of Switchboard: read conversations, reply, resolve, manage keys and webhooks.

**Authentication**: \`Authorization: Bearer <token>\`, an API key from \`POST /api/admin/keys\` (or the
bootstrap \`AGENT_API_TOKEN\`). Each operation says the scope its key needs: \`read\`, \`reply\` or \`admin\`.
After ${FAILED_LOGIN_BUDGET.limit} wrong tokens from one address within a fixed ${FAILED_LOGIN_BUDGET.windowSeconds / 60}-minute window, its requests get
429 \`TOO_MANY_FAILED_LOGINS\` with \`Retry-After\` until the window ends, whatever token they carry
(under \`npm start\`, where every caller is 127.0.0.1, the window is ${LOCAL_FAILED_LOGIN_BUDGET.windowSeconds / 60} minute).

**Errors** are JSON \`{"error": {"code", "message", "details?"}}\`; branch on \`code\`, never on \`message\`.

**Enums are closed**, and each that may hold what a newer release of Switchboard stored (a message's
\`kind\`, a webhook's \`events\` and \`disabledReason\`, a delivery's \`eventType\` and \`state\`) also lists
\`unknownFutureValue\`: such a value is shown as that (during a rolling deploy, or after a rollback), never
as itself. Handle it as "something this client does not know yet".

**Acting calls** take an \`Idempotency-Key\`: a retry with the same key and body gets the first answer again
(header \`Idempotent-Replayed: true\`), never a second send.

The providers' webhooks (\`/webhooks/*\`) are not here: providers call them, signed with their own
secrets, in their own formats (see the README), and agents never do.`;

const ERROR_TITLES: Record<ErrorStatus, string> = {
  400: 'The request is not valid',
  401: 'No valid bearer token (missing, malformed, unknown or revoked)',
  403: 'The key lacks the scope this operation needs',
  404: 'Not found',
  409: 'In conflict with the current state',
  413: 'The body is too large',
  422: 'Understood, but refused',
  429: "Too many requests: this key's budget a minute is spent, or this address sent too many wrong tokens (wait for Retry-After)",
  500: 'Unexpected failure; the request can be retried',
  503: 'Not known yet; retry with the same Idempotency-Key after Retry-After',
};

const WWW_AUTHENTICATE = { 'WWW-Authenticate': { description: 'The Bearer challenge (RFC 6750)' } };
const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before the next request' } };
const REPLAYED = {
  'Idempotent-Replayed': { description: '`true` when this is the stored answer to an earlier request' },
};

const openApiPath = (path: string) => path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}');
const pathParams = (path: string) => [...path.matchAll(/:(\w+)/g)].map((match) => match[1] ?? '');

const headers = (docs: Record<string, HeaderDoc>): Json =>
  Object.fromEntries(
    Object.entries(docs).map(([name, doc]) => [
      name,
      { description: doc.description, schema: { type: 'string' } },
    ]),
  );

function successResponse(doc: ResponseDoc, operation: ApiOperation, set: SchemaSet): Json {
  const all = { ...(operation.idempotent ? REPLAYED : {}), ...doc.headers };
  return {
    description: doc.description,
    ...(Object.keys(all).length > 0 ? { headers: headers(all) } : {}),
    ...(doc.schema
      ? { content: { [doc.contentType ?? 'application/json']: { schema: set.add(doc.schema) } } }
      : {}),
  };
}

/** The error codes an operation answers with, by status: its own plus those its traits imply. */
function errorCodes(operation: ApiOperation): Map<ErrorStatus, string[]> {
  const codes = new Map<ErrorStatus, string[]>();
  const add = (status: ErrorStatus, ...more: readonly string[]) =>
    codes.set(status, [...new Set([...(codes.get(status) ?? []), ...more])]);
  if (operation.body || operation.query) add(400, 'INVALID_REQUEST');
  if (operation.maxBodyBytes !== undefined) add(413, 'PAYLOAD_TOO_LARGE');
  if (operation.idempotent) {
    add(400, 'IDEMPOTENCY_KEY_REQUIRED');
    add(409, 'REQUEST_IN_PROGRESS');
    add(422, 'IDEMPOTENCY_KEY_REUSED');
  }
  if (operation.auth !== 'public') {
    add(401, 'UNAUTHORIZED');
    add(403, 'FORBIDDEN');
  }
  for (const [status, own] of Object.entries(operation.errors ?? {}))
    add(Number(status) as ErrorStatus, ...own);
  if (operation.auth !== 'public') {
    add(429, 'RATE_LIMITED', 'TOO_MANY_FAILED_LOGINS');
    add(500, 'INTERNAL');
  } else add(429);
  return codes;
}

// API Gateway's stage throttle answers before the app, in its own shape: every operation may
// get it on a deployed stage; authenticated ones may also get the app's per-key RATE_LIMITED and
// its per-address TOO_MANY_FAILED_LOGINS.
const THROTTLED = { $ref: `${SCHEMA_REF}Throttled` };
const GATEWAY_THROTTLE =
  'On a deployed stage, API Gateway\'s throttle answers `{"message": "Too Many Requests"}`';

function errorResponse(status: ErrorStatus, codes: string[]): Json {
  if (status === 429 && codes.length === 0) {
    return { description: GATEWAY_THROTTLE, content: { 'application/json': { schema: THROTTLED } } };
  }
  if (status === 429) {
    return {
      description: `${ERROR_TITLES[429]}. Codes: ${codes.map((code) => `\`${code}\``).join(', ')}. ${GATEWAY_THROTTLE}`,
      'x-error-codes': codes,
      headers: headers(RETRY_AFTER),
      content: { 'application/json': { schema: { anyOf: [ERROR_REF, THROTTLED] } } },
    };
  }
  return {
    description: `${ERROR_TITLES[status]}. Codes: ${codes.map((code) => `\`${code}\``).join(', ')}`,
    'x-error-codes': codes,
    ...(status === 401 || status === 403 ? { headers: headers(WWW_AUTHENTICATE) } : {}),
    ...(status === 503 ? { headers: headers(RETRY_AFTER) } : {}),
    content: { 'application/json': { schema: ERROR_REF } },
  };
}

function describe(operation: ApiOperation): string {
  return [
    operation.description,
    operation.auth === 'public'
      ? 'No authentication.'
      : `Needs an API key with the \`${operation.auth}\` scope.`,
    operation.idempotent
      ? 'Send an `Idempotency-Key`: a retry with the same key and body gets the first answer again.'
      : undefined,
    operation.maxBodyBytes !== undefined
      ? `A body over ${operation.maxBodyBytes / 1024} KB is refused (413 \`PAYLOAD_TOO_LARGE\`).`
      : undefined,
  ]
    .filter(Boolean)
    .join('\n\n');
}

function buildOperation(operation: ApiOperation, input: SchemaSet, output: SchemaSet): Json {
  const declared = Object.keys(operation.params ?? {});
  const inPath = pathParams(operation.path);
  if (declared.sort().join() !== [...inPath].sort().join()) {
    throw new Error(`${operation.operationId}: params [${declared}] do not match the path ${operation.path}`);
  }
  // Every route that reads a body limits it (bodyLimit): its 413 is part of the contract.
  if (operation.body && operation.maxBodyBytes === undefined) {
    throw new Error(`${operation.operationId}: a body without its maxBodyBytes (the route's bodyLimit)`);
  }
  const parameters: Json[] = inPath.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: input.add(operation.params?.[name] as z.ZodType),
  }));
  if (operation.query) parameters.push({ in: 'query', $query: input.add(operation.query) });
  if (operation.idempotent) parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });

  const responses: Record<string, Json> = {};
  for (const [status, doc] of Object.entries(operation.responses)) {
    responses[status] = successResponse(doc, operation, output);
  }
  for (const [status, codes] of errorCodes(operation)) responses[status] = errorResponse(status, codes);

  return {
    operationId: operation.operationId,
    tags: [operation.tag],
    summary: operation.summary,
    description: describe(operation),
    ...(operation.deprecated ? { deprecated: true } : {}),
    security: operation.auth === 'public' ? [] : [{ bearer: [operation.auth] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body
      ? {
          requestBody: {
            required: !operation.body.safeParse(undefined).success,
            content: { 'application/json': { schema: input.add(operation.body) } },
          },
        }
      : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b))),
  };
}

/** Splits the placeholder of a query object into one OpenAPI parameter per property. */
function expandQuery(parameters: Json[] | undefined): Json[] | undefined {
  return parameters?.flatMap((parameter) => {
    const query = parameter.$query as { properties?: Record<string, Json>; required?: string[] } | undefined;
    if (!query) return [parameter];
    return Object.entries(query.properties ?? {}).map(([name, schema]) => {
      const { description, ...rest } = schema;
      return {
        name,
        in: 'query',
        required: query.required?.includes(name) ?? false,
        ...(description ? { description } : {}),
        schema: rest,
      };
    });
  });
}

/**
 * The OpenAPI 3.1 document of `operations`, every schema converted from the zod schemas the
 * routes use. Throws on an inconsistent entry (a duplicate, a path parameter without schema),
 * so a mistake fails the tests rather than producing a wrong document.
 */
export function buildOpenApiDocument(
  operations: readonly ApiOperation[],
  options: { version: string; serverUrl?: string },
): OpenApiDocument {
  const input = new SchemaSet('input');
  const output = new SchemaSet('output', NAMED_SCHEMAS);
  const idempotencyKey = input.add(IdempotencyKeySchema);
  const paths: Record<string, Record<string, Json>> = {};
  const operationIds = new Set<string>();
  for (const operation of operations) {
    const path = openApiPath(operation.path);
    const item = paths[path] ?? {};
    paths[path] = item;
    if (item[operation.method] || operationIds.has(operation.operationId)) {
      throw new Error(`${operation.method.toUpperCase()} ${operation.path} (${operation.operationId}) twice`);
    }
    operationIds.add(operation.operationId);
    item[operation.method] = buildOperation(operation, input, output);
  }

  const resolved = output.resolve(input.resolve(paths));
  const idempotencyKeySchema = input.resolve(idempotencyKey);
  for (const item of Object.values(resolved)) {
    for (const operation of Object.values(item)) {
      const parameters = expandQuery(operation.parameters as Json[] | undefined);
      if (parameters) operation.parameters = parameters;
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: "Switchboard agents' API", version: options.version, description: DESCRIPTION },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ bearer: [] }],
    tags: [...new Set(operations.map((operation) => operation.tag))].map((name) => ({ name })),
    paths: resolved,
    components: {
      schemas: output.components(),
      parameters: {
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: true,
          description:
            'Yours, unique per intended action (a UUID): retries of that action send the same key. ' +
            'Kept per API key, method and path, for 24 hours: after that the key is free again, and ' +
            'a request under it is a new one (a reply with another text is sent; the same text again is ' +
            'still answered with the reply it sent).',
          schema: idempotencyKeySchema,
        },
      },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API key (`sbk_…`) from POST /api/admin/keys, or the bootstrap AGENT_API_TOKEN. The ' +
            'scopes an operation needs are listed in its security requirement and its description.',
        },
      },
    },
  };
}
