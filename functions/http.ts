import { handle } from 'hono/aws-lambda';
import { loadLambdaRuntime } from '#lib/runtime/lambda.ts';
import { createMailStore } from '#lib/runtime/mail.ts';

// Top-level await: configuration and clients are built once, during the cold start.
const runtime = await loadLambdaRuntime('switchboard-http', {
  mail: (config) => ({ mailStore: createMailStore(config) }),
});

/** Every webhook and the agents' API, behind API Gateway's HTTP API. */
export const handler = handle(runtime.app);
