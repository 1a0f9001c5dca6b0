import { handle } from 'hono/aws-lambda';
import { loadLambdaRuntime } from '#lib/runtime/lambda.ts';
import { createMailStore } from '#lib/runtime/mail.ts';
import { createSesEmailClient } from '#lib/runtime/ses-client.ts';

// Top-level await: configuration and clients are built once, during the cold start.
const runtime = await loadLambdaRuntime('switchboard-http', {
  // Mail in (SES intake, attachments) and out (agents' email replies through the API).
  mail: (config) => {
    const emailClient = createSesEmailClient(config);
    return { mailStore: createMailStore(config), ...(emailClient ? { emailClient } : {}) };
  },
});

/** Every webhook and the agents' API, behind API Gateway's HTTP API. */
export const handler = handle(runtime.app);
