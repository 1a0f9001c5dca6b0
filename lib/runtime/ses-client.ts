import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { SesEmailClient } from '#lib/channels/email/send-ses.ts';
import type { AppConfig } from '#lib/config/app-config.ts';

// Kept apart from clients.ts: only the function that answers by email imports the SES client.

/** The SES client email acknowledgements are sent with (only where email is answered). */
export function createSesEmailClient(config: AppConfig): SesEmailClient | undefined {
  if (!config.email.fromAddress) return undefined;
  const client = new SESv2Client({ region: config.aws.region });
  return { sendEmail: (input) => client.send(new SendEmailCommand(input)) };
}
