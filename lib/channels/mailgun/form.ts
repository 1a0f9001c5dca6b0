import { MalformedPayloadError, type WebhookRequest } from '#lib/channels/channel.ts';

/** One uploaded file of a multipart/form-data body (Mailgun's `attachment-N`). */
export type FormFile = { field: string; filename: string; contentType: string; content: Uint8Array };

/** A decoded form: every value of every text field in order (null prototype), and the files. */
export type ParsedForm = { fields: Record<string, string[]>; files: FormFile[] };

/**
 * A webhook request that may also carry the body's exact bytes. Multipart bodies hold binary
 * attachments that a UTF-8 `rawBody` string cannot represent (bytes that are not UTF-8
 * become U+FFFD); with `rawBytes` they arrive intact. Proposed for WebhookRequest.
 */
export type WebhookRequestWithBytes = WebhookRequest & { rawBytes?: Uint8Array };

// RFC 2046 §5.1.1: at most 70 characters.
const BOUNDARY = /(?:^|;)\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i;
const MAX_PARTS = 1000;

function addField(fields: Record<string, string[]>, name: string, value: string) {
  const seen = fields[name];
  if (seen) seen.push(value);
  else fields[name] = [value];
}

function param(header: string, name: string): string | undefined {
  // RFC 5987 `name*=utf-8''…` first: browsers and Mailgun use it for non-ASCII file names.
  const extended = new RegExp(`;\\s*${name}\\*=(?:utf-8|UTF-8)''([^;]*)`).exec(header);
  if (extended?.[1] !== undefined) {
    try {
      return decodeURIComponent(extended[1]);
    } catch {
      // fall through to the plain parameter
    }
  }
  const quoted = new RegExp(`;\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(header);
  if (quoted?.[1] !== undefined) return quoted[1].replace(/\\(.)/g, '$1');
  return new RegExp(`;\\s*${name}=([^;\\s]*)`, 'i').exec(header)?.[1];
}

function malformed(reason: string): MalformedPayloadError {
  return new MalformedPayloadError('The multipart body is not valid form data', [`(root): ${reason}`]);
}

/** Parses multipart/form-data (RFC 7578) synchronously from the body's bytes. */
export function parseMultipart(body: Uint8Array, contentType: string): ParsedForm {
  const match = BOUNDARY.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw malformed('no-boundary');
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const fields: Record<string, string[]> = Object.create(null);
  const files: FormFile[] = [];
  // The first delimiter may sit at the very start, without the CRLF before it.
  let at = buffer.indexOf(delimiter.subarray(2));
  if (at === -1) throw malformed('no-delimiter');
  at += delimiter.length - 2;
  for (let parts = 0; ; parts++) {
    if (buffer.subarray(at, at + 2).toString('latin1') === '--') break;
    if (parts >= MAX_PARTS) throw malformed('too-many-parts');
    const headersStart = buffer.indexOf('\r\n', at);
    if (headersStart === -1) throw malformed('truncated');
    const end = buffer.indexOf(delimiter, headersStart);
    if (end === -1) throw malformed('truncated');
    const part = buffer.subarray(headersStart + 2, end);
    const split = part.indexOf('\r\n\r\n');
    const head = (split === -1 ? part : part.subarray(0, split)).toString('utf8');
    const content = split === -1 ? new Uint8Array() : new Uint8Array(part.subarray(split + 4));
    const headers: Record<string, string> = {};
    for (const line of head.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const disposition = headers['content-disposition'] ?? '';
    const name = param(disposition, 'name');
    if (!/^form-data\b/i.test(disposition) || name === undefined) throw malformed('part-without-name');
    const filename = param(disposition, 'filename');
    if (filename === undefined) {
      addField(fields, name, Buffer.from(content).toString('utf8'));
    } else {
      const type = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
      files.push({ field: name, filename, contentType: type || 'application/octet-stream', content });
    }
    at = end + delimiter.length;
  }
  return { fields, files };
}

/** Parses an application/x-www-form-urlencoded body, keeping repeated names. */
export function parseUrlEncoded(rawBody: string): ParsedForm {
  const fields: Record<string, string[]> = Object.create(null);
  for (const [name, value] of new URLSearchParams(rawBody)) addField(fields, name, value);
  return { fields, files: [] };
}

const parsed = new WeakMap<WebhookRequest, ParsedForm>();

/**
 * The form of a Mailgun POST, urlencoded or multipart by its Content-Type. Decoded once per
 * request: verify and parse both need it, and a multipart body can be megabytes.
 */
export function readForm(request: WebhookRequestWithBytes): ParsedForm {
  const cached = parsed.get(request);
  if (cached) return cached;
  const contentType = request.headers.get('content-type') ?? '';
  const form = /^\s*multipart\/form-data/i.test(contentType)
    ? parseMultipart(request.rawBytes ?? new TextEncoder().encode(request.rawBody), contentType)
    : parseUrlEncoded(request.rawBody);
  parsed.set(request, form);
  return form;
}
