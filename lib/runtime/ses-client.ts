import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { SesEmailClient } from '#lib/channels/email/send-ses.ts';
import type { AppConfig } from '#lib/config/app-config.ts';

// Kept apart from clients.ts: only the function that answers by email imports the SES client.

/** Per SendEmail call; the sender retries within its own budget (send-ses.ts). */
export type SesClientTimeouts = { connectionTimeoutMs?: number; requestTimeoutMs?: number };

/**
 * The SES client email acknowledgements and replies are sent with (only where email is
 * answered). One attempt per call: the SDK's default strategy (3 attempts) retries a timeout or
 * a reset, after SES may have taken the mail, so an email could go out 2–3 times in one call.
 * The sender retries only what proves SES took nothing (throttling, 503, a refused connection)
 * and leaves the rest uncertain (SendError.uncertain). A request with no answer ends at our
 * timeout (the SDK's own has none by default, and only warns unless told to throw).
 */
export function createSesEmailClient(
  config: AppConfig,
  { connectionTimeoutMs = 2_000, requestTimeoutMs = 5_000 }: SesClientTimeouts = {},
): SesEmailClient | undefined {
  if (!config.email.fromAddress) return undefined;
  const client = new SESv2Client({
    region: config.aws.region,
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: connectionTimeoutMs,
      requestTimeout: requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  });
  return { sendEmail: (input) => client.send(new SendEmailCommand(input)) };
}
