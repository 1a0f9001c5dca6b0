import { handle } from 'hono/aws-lambda';
import { loadLambdaRuntime } from '#lib/runtime/lambda.ts';

// Top-level await: configuration and clients are built once, during the cold start.
const runtime = await loadLambdaRuntime('switchboard-http');

/** Every webhook and the agents' API, behind API Gateway's HTTP API. */
export const handler = handle(runtime.app);
