// The API's administration: API keys and webhook subscriptions.

import { ApiKeyIdSchema } from '#lib/domain/api-key.ts';
import { WebhookIdSchema } from '#lib/domain/webhook.ts';
import { CreateKeyBody, KeysQuery, MAX_KEY_BODY_BYTES } from '../routes/admin.ts';
import {
  createBody,
  DeliveriesQuery,
  MAX_WEBHOOK_BODY_BYTES,
  ReplayBody,
  RotateSecretBody,
  UpdateWebhookBody,
  WebhooksQuery,
} from '../routes/webhooks.ts';
import type { ApiOperation } from './operation.ts';
import {
  ApiKeyListSchema,
  CreatedApiKeySchema,
  CreatedWebhookSchema,
  ReplayStartedSchema,
  RotatedWebhookSecretSchema,
  WebhookDeliveryPageSchema,
  WebhookListSchema,
  WebhookViewSchema,
} from './schemas.ts';

const noStore = {
  'Cache-Control': { description: '`no-store`: the secret in this answer must not be cached' },
};

/** The administration's entries of OPERATIONS, in its order. */
export const ADMIN_OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'post',
    path: '/api/admin/keys',
    operationId: 'createApiKey',
    tag: 'Keys',
    summary: 'Create an API key',
    description:
      "`agentName`, when given, is the person the key's replies are signed by: someone the business configuration lists with a direct contact (people.rota or people.agents, by name or id), else 422 `AGENT_NOT_LISTED`. The key keeps their id (`agentId`) and their name as listed; the id signs its replies, so a rename in the configuration keeps signing as them.",
    auth: 'admin',
    body: CreateKeyBody,
    maxBodyBytes: MAX_KEY_BODY_BYTES,
    responses: { 201: { description: 'Created', schema: CreatedApiKeySchema, headers: noStore } },
    errors: { 422: ['AGENT_NOT_LISTED'] },
  },
  {
    method: 'get',
    path: '/api/admin/keys',
    operationId: 'listApiKeys',
    tag: 'Keys',
    summary: 'List API keys (never their tokens)',
    description:
      'Newest first, revoked ones too, `limit` (default 100, at most 500) a page: follow `nextCursor` until it is null (a page may be shorter and still have one).',
    auth: 'admin',
    query: KeysQuery,
    responses: { 200: { description: 'One page', schema: ApiKeyListSchema } },
    errors: { 400: ['INVALID_CURSOR'] },
  },
  {
    method: 'delete',
    path: '/api/admin/keys/:id',
    operationId: 'revokeApiKey',
    tag: 'Keys',
    summary: 'Revoke an API key',
    auth: 'admin',
    params: { id: ApiKeyIdSchema },
    responses: { 204: { description: 'Revoked' } },
    errors: { 404: ['NOT_FOUND'] },
  },

  {
    method: 'post',
    path: '/api/webhooks',
    operationId: 'createWebhook',
    tag: 'Webhooks',
    summary: 'Subscribe an endpoint to events',
    description: 'In production the URL must be https and must not point at a private address.',
    auth: 'admin',
    // The production flag only changes a refinement, which JSON Schema cannot say anyway.
    body: createBody(true),
    maxBodyBytes: MAX_WEBHOOK_BODY_BYTES,
    responses: { 201: { description: 'Subscribed', schema: CreatedWebhookSchema, headers: noStore } },
    errors: { 409: ['TOO_MANY_WEBHOOKS'] },
  },
  {
    method: 'get',
    path: '/api/webhooks',
    operationId: 'listWebhooks',
    tag: 'Webhooks',
    summary: 'List subscriptions (never their secrets)',
    description:
      'Newest first, disabled ones too, `limit` (default 100, at most 500) a page: follow `nextCursor` until it is null (a page may be shorter and still have one).',
    auth: 'admin',
    query: WebhooksQuery,
    responses: { 200: { description: 'One page', schema: WebhookListSchema } },
    errors: { 400: ['INVALID_CURSOR'] },
  },
  {
    method: 'get',
    path: '/api/webhooks/:id',
    operationId: 'getWebhook',
    tag: 'Webhooks',
    summary: 'One subscription',
    auth: 'admin',
    params: { id: WebhookIdSchema },
    responses: { 200: { description: 'The subscription', schema: WebhookViewSchema } },
    errors: { 404: ['NOT_FOUND'] },
  },
  {
    method: 'patch',
    path: '/api/webhooks/:id',
    operationId: 'updateWebhook',
    tag: 'Webhooks',
    summary: 'Disable a subscription by hand, or enable it again',
    description:
      '`enabled: false` disables it (`disabledReason` `manual`; one disabled already keeps its time and reason). `enabled: true` enables again one disabled by hand, after 410 Gone, or for `failing` (its endpoint accepted no delivery for 5 days: the 5 days start again), within the 100 enabled subscriptions; a deleted one stays deleted (409 `WEBHOOK_DELETED`). Both are idempotent and answer the subscription. The deliveries given up while it was disabled stay `failed` in the log: replay them with `POST /api/webhooks/{id}/replay`.',
    auth: 'admin',
    params: { id: WebhookIdSchema },
    body: UpdateWebhookBody,
    maxBodyBytes: MAX_WEBHOOK_BODY_BYTES,
    responses: { 200: { description: 'The subscription as it is now', schema: WebhookViewSchema } },
    errors: { 404: ['NOT_FOUND'], 409: ['WEBHOOK_DELETED', 'TOO_MANY_WEBHOOKS'] },
  },
  {
    method: 'delete',
    path: '/api/webhooks/:id',
    operationId: 'deleteWebhook',
    tag: 'Webhooks',
    summary: 'Disable a subscription',
    auth: 'admin',
    params: { id: WebhookIdSchema },
    responses: {
      204: { description: 'Deleted: nothing more is sent to it, and PATCH cannot enable it again' },
    },
    errors: { 404: ['NOT_FOUND'] },
  },
  {
    method: 'post',
    path: '/api/webhooks/:id/rotate-secret',
    operationId: 'rotateWebhookSecret',
    tag: 'Webhooks',
    summary: 'Give a subscription a new signing secret',
    description:
      'Returns the new secret, this once. For `graceHours` (default 24, at most 168) every delivery is signed with both the new and the old secret: `webhook-signature` lists both signatures, space-separated, as Standard Webhooks provides for rotation, so the receiver accepts deliveries under either while it switches. `graceHours: 0` stops the old secret at once (a leaked one). The subscription, its delivery log and its pending deliveries stay; rotating again during a grace ends that grace. Another rotation with a grace within 5 minutes of the last one is refused with 409 `ROTATED_RECENTLY` (`details.nextRotationAt`), changing nothing: a retried request must not drop the secret your receiver still has; `graceHours: 0` is never refused.',
    auth: 'admin',
    params: { id: WebhookIdSchema },
    body: RotateSecretBody,
    maxBodyBytes: MAX_WEBHOOK_BODY_BYTES,
    responses: {
      200: { description: 'Rotated', schema: RotatedWebhookSecretSchema, headers: noStore },
    },
    errors: { 404: ['NOT_FOUND'], 409: ['WEBHOOK_DISABLED', 'CONCURRENT_UPDATE', 'ROTATED_RECENTLY'] },
  },
  {
    method: 'get',
    path: '/api/webhooks/:id/deliveries',
    operationId: 'listWebhookDeliveries',
    tag: 'Webhooks',
    summary: "A subscription's deliveries",
    description:
      'Newest first. A delivery stays in the log while it is pending and for 30 days after it was delivered or failed.',
    auth: 'admin',
    params: { id: WebhookIdSchema },
    query: DeliveriesQuery,
    responses: { 200: { description: 'One page', schema: WebhookDeliveryPageSchema } },
    errors: { 400: ['INVALID_CURSOR'], 404: ['NOT_FOUND'] },
  },
  {
    method: 'post',
    path: '/api/webhooks/:id/replay',
    operationId: 'replayWebhook',
    tag: 'Webhooks',
    summary: 'Send the events since a moment again',
    description:
      "Sends again the events of the subscription's deliveries since `since`: those still in the delivery log (30 days after they settled).",
    auth: 'admin',
    params: { id: WebhookIdSchema },
    body: ReplayBody,
    maxBodyBytes: MAX_WEBHOOK_BODY_BYTES,
    responses: { 202: { description: 'Queued', schema: ReplayStartedSchema } },
    errors: {
      400: ['REPLAY_TOO_LARGE'],
      404: ['NOT_FOUND'],
      409: ['WEBHOOK_DISABLED'],
    },
  },
];
