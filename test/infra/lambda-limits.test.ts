import { describe, expect, it } from 'vitest';
import { buildAppConfig } from '#lib/config/app-config.ts';
import { parseEnv } from '#lib/config/env.ts';
import { parseBusinessConfig } from '#lib/domain/business-config.ts';
import businessJson from '../../switchboard.config.json' with { type: 'json' };
import { logicalId, MAIL_OPTIONS, type SynthOptions, synthStack } from './synth.ts';

/** Lambda's quota for a synchronous invocation's request payload (the API Gateway event). */
const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Room for the rest of the HTTP API v2 event: headers, request context, path, query. */
const EVENT_ENVELOPE_BYTES = 64 * 1024;

function httpEnvironment(options: SynthOptions): Record<string, unknown> {
  const { template } = synthStack('prod', options);
  const id = logicalId(template, 'AWS::Lambda::Function', 'HttpFunction');
  const fn = template.findResources('AWS::Lambda::Function')[id] as {
    Properties: { Environment: { Variables: Record<string, unknown> } };
  };
  return fn.Properties.Environment.Variables;
}

// What the stack hands the functions against what the code needs: a body limit the Lambda
// invocation can carry, and the Meta app id that tells our own echoes apart. Found by a
// review of the infrastructure at stop 22.

describe('the stack and what the functions need', () => {
  it('should accept only webhook bodies that fit in one synchronous Lambda invocation behind the HTTP API', () => {
    // Prepare: the configuration the http function builds on Lambda.
    const env = parseEnv({
      NODE_ENV: 'production',
      TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
      TWILIO_AUTH_TOKEN: 'token',
      AGENT_API_TOKEN: 'agent-token-0123456789abcdef0123456789',
    });
    const config = buildAppConfig(env, parseBusinessConfig(businessJson));

    // Act: the largest body each webhook family lets through (413 only above it).
    const limits = Object.entries(config.limits.webhookBodyBytes);

    // Assess: API Gateway passes the body to the function inside the invocation event, and a
    // synchronous invocation refuses a payload above 6 MB; HTTP API base64-encodes a multipart
    // body (Mailgun's forwards), a third larger.
    for (const [family, maxBody] of limits) {
      const encoded = family === 'email' ? Math.ceil(maxBody / 3) * 4 : maxBody;
      expect(encoded + EVENT_ENVELOPE_BYTES, `${family} body limit vs Lambda's 6 MB`).toBeLessThanOrEqual(
        LAMBDA_SYNC_PAYLOAD_BYTES,
      );
    }
  });

  it('should move an ack job to the DLQ after the receive the ack worker counts as its last (ack.maxAttempts)', () => {
    // Prepare: the configuration the ack worker builds on Lambda
    const env = parseEnv({
      NODE_ENV: 'production',
      TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
      TWILIO_AUTH_TOKEN: 'token',
      AGENT_API_TOKEN: 'agent-token-0123456789abcdef0123456789',
    });
    const { maxAttempts } = buildAppConfig(env, parseBusinessConfig(businessJson)).ack;

    // Act: the ack queue's receives before the DLQ, as deployed
    const { template } = synthStack('prod', { ...MAIL_OPTIONS });
    const queue = template.findResources('AWS::SQS::Queue')[
      logicalId(template, 'AWS::SQS::Queue', 'AckQueueC4')
    ] as {
      Properties: { RedrivePolicy: { maxReceiveCount: number } };
    };

    // Assess: the worker lets go of a queued echo and marks an ack failed on the receive it
    // counts as the last (work-records.ts, send-automatic.ts); a queue that gave more receives would
    // leave those to the DLQ, one that gave fewer would let go of an echo early.
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(maxAttempts);
  });

  it("should give the http function the Meta app id (-c metaAppId), so echoes of our own acks are not taken for a person's reply", () => {
    // Prepare: a production deploy with Meta in use
    const options: SynthOptions = {
      ...MAIL_OPTIONS,
      whatsappPhoneNumberId: '106540352242922',
      metaAppId: '1234567890123456',
    };

    // Act
    const variables = httpEnvironment(options);

    // Assess: without it recordEcho cannot recognise an echo carrying our app_id, and an echo
    // that beats the worker's putMessage is stored as an inbox reply that ends the episode.
    expect(variables.META_APP_ID).toBe('1234567890123456');
  });

  it("should turn the HUMAN_AGENT tag of agents' late Meta replies off only when told (-c metaHumanAgent=off)", () => {
    // Act
    const byDefault = httpEnvironment({ ...MAIL_OPTIONS });
    const off = httpEnvironment({ ...MAIL_OPTIONS, metaHumanAgent: false });

    // Assess: the function's own default is on
    expect(byDefault.META_HUMAN_AGENT).toBeUndefined();
    expect(off.META_HUMAN_AGENT).toBe('off');
  });
});
