import { z } from 'zod';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import type { MailHeader } from '#lib/channels/email/mime.ts';
import { type FormFile, readForm, type WebhookRequestWithBytes } from './form.ts';

const HeaderPairsSchema = z.array(z.tuple([z.string(), z.string()]).rest(z.unknown()));

/**
 * `message-headers`: the mail's headers as a JSON string of ordered [name, value] pairs.
 * Names are lower-cased here, as the loop guard and the MIME parser expect them.
 */
const MessageHeadersSchema = z.string().transform((text, ctx): MailHeader[] => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    ctx.issues.push({ code: 'custom', message: 'not JSON', input: undefined });
    return z.NEVER;
  }
  const pairs = HeaderPairsSchema.safeParse(json);
  if (!pairs.success) {
    ctx.issues.push({ code: 'custom', message: 'not [name, value] pairs', input: undefined });
    return z.NEVER;
  }
  return pairs.data.map(([name, value]) => ({ name: name.toLowerCase(), value }));
});

/**
 * The fields of a Mailgun route `forward()` POST (Mailgun "Receiving messages via HTTP"):
 * the ones we use are validated, every other field (the headers Mailgun copies to the top
 * level) passes through.
 */
export const MailgunRouteSchema = z.looseObject({
  recipient: z.string().min(1).max(2000),
  /** SMTP MAIL FROM; empty for a bounce. */
  sender: z.string().optional(),
  from: z.string().min(1),
  subject: z.string().default(''),
  'body-plain': z.string().default(''),
  'body-html': z.string().optional(),
  'stripped-text': z.string().optional(),
  'stripped-signature': z.string().optional(),
  'message-headers': MessageHeadersSchema.default([]),
  'Message-Id': z.string().optional(),
  'In-Reply-To': z.string().optional(),
  References: z.string().optional(),
  'attachment-count': z
    .string()
    .regex(/^\d{1,4}$/)
    .optional(),
  timestamp: z.string().regex(/^\d{1,12}$/),
  token: z.string().min(1).max(256),
  signature: z.string().min(1),
});

export type MailgunPayload = z.output<typeof MailgunRouteSchema> & { files: FormFile[] };

/**
 * Validates a Mailgun route POST, urlencoded or multipart (Mailgun sends multipart when
 * the mail has attachments). Throws MalformedPayloadError naming fields, never values.
 */
export function parseMailgunRoute(request: WebhookRequestWithBytes): MailgunPayload {
  const form = readForm(request);
  // A repeated field keeps its first value: Mailgun sends each field once.
  const first = Object.fromEntries(Object.entries(form.fields).map(([name, values]) => [name, values[0]]));
  const result = MailgunRouteSchema.safeParse(first);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`);
    throw new MalformedPayloadError(
      `Mailgun route POST does not match the documented shape (${issues.length} issue(s))`,
      issues,
    );
  }
  const declared = Number(result.data['attachment-count'] ?? form.files.length);
  if (declared !== form.files.length) {
    throw new MalformedPayloadError('Mailgun attachment-count does not match the files sent', [
      'attachment-count: custom',
    ]);
  }
  return { ...result.data, files: form.files };
}
