import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { WebhookRequestWithBytes } from '#lib/channels/mailgun/form.ts';

export type MailgunFixture = 'reply-polish' | 'two-attachments';

/** The HTTP webhook signing key the tests sign with; not a real credential. */
export const TEST_SIGNING_KEY = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0';
export const TEST_WEBHOOK_URL = 'https://hooks.switchboard.example/webhooks/mailgun';
/** The clock the tests verify with, and the timestamp the fixtures are signed at. */
export const TEST_NOW = new Date('2026-11-11T07:30:05Z');

/** A fresh token of Mailgun's shape: 50 random characters. */
export function mailgunToken(): string {
  return randomBytes(25).toString('hex');
}

/** A captured route POST (without its signature fields), as form params. */
export function mailgunFixture(name: MailgunFixture): URLSearchParams {
  const raw = readFileSync(new URL(`../fixtures/mailgun/${name}.txt`, import.meta.url), 'utf8');
  return new URLSearchParams(raw.trimEnd());
}

export type SignOptions = { key?: string; timestamp?: number; token?: string };

/** Adds `timestamp`, `token` and `signature` as Mailgun does (hex HMAC-SHA256 of timestamp + token). */
export function signMailgun(form: URLSearchParams, options: SignOptions = {}): URLSearchParams {
  const signed = new URLSearchParams(form);
  const timestamp = String(options.timestamp ?? Math.floor(TEST_NOW.getTime() / 1000));
  const token = options.token ?? mailgunToken();
  const signature = createHmac('sha256', options.key ?? TEST_SIGNING_KEY)
    .update(timestamp + token)
    .digest('hex');
  signed.set('timestamp', timestamp);
  signed.set('token', token);
  signed.set('signature', signature);
  return signed;
}

/** A urlencoded route POST as lib/http hands it to the channel. */
export function mailgunRequest(form: URLSearchParams): WebhookRequestWithBytes {
  return {
    url: TEST_WEBHOOK_URL,
    headers: new Headers({
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'mailgun/treq-16.12.0',
    }),
    rawBody: form.toString(),
  };
}

export type MailgunFile = { field: string; filename: string; contentType: string; content: Uint8Array };

/**
 * A multipart route POST (Mailgun's shape when the mail has attachments), encoded by the
 * platform's own FormData. `withBytes: false` leaves only the UTF-8 text, as the route
 * hands over today.
 */
export async function mailgunMultipartRequest(
  form: URLSearchParams,
  files: MailgunFile[],
  options: { withBytes?: boolean } = {},
): Promise<WebhookRequestWithBytes> {
  const data = new FormData();
  for (const [name, value] of form) data.append(name, value);
  for (const file of files) {
    data.append(
      file.field,
      new Blob([new Uint8Array(file.content)], { type: file.contentType }),
      file.filename,
    );
  }
  const response = new Response(data);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const request: WebhookRequestWithBytes = {
    url: TEST_WEBHOOK_URL,
    headers: new Headers({ 'content-type': response.headers.get('content-type') ?? '' }),
    rawBody: new TextDecoder().decode(bytes),
  };
  if (options.withBytes !== false) request.rawBytes = bytes;
  return request;
}

/** The two attachments of the `two-attachments` fixture: a small PDF and a 1×1 PNG. */
export function fixtureFiles(): MailgunFile[] {
  const pdf = new TextEncoder().encode(
    '%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
  );
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
    'base64',
  );
  return [
    { field: 'attachment-1', filename: 'faktura-2026-09.pdf', contentType: 'application/pdf', content: pdf },
    {
      field: 'attachment-2',
      filename: 'zdjęcie.png',
      contentType: 'image/png',
      content: new Uint8Array(png),
    },
  ];
}
