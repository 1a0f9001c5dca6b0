import { z } from 'zod';
import { MalformedPayloadError, type WebhookRequest } from '#lib/channels/channel.ts';

/**
 * Form params as twilio-node's signature helper expects them: a repeated name becomes an
 * array (as express.urlencoded would give it), which twilio-node de-duplicates and sorts.
 */
export type TwilioFormParams = Record<string, string | string[]>;

/** Parses a raw `application/x-www-form-urlencoded` body, keeping every param Twilio sent. */
export function parseTwilioForm(rawBody: string): TwilioFormParams {
  // A null prototype keeps a `__proto__` or `constructor` param an ordinary own key.
  const params: TwilioFormParams = Object.create(null);
  for (const [name, value] of new URLSearchParams(rawBody)) {
    const seen = params[name];
    if (seen === undefined) params[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else params[name] = [seen, value];
  }
  return params;
}

// The signature check and the schema each need the request's form: parsed once per request,
// not once for each. Neither changes the params they read. The route asks for it twice in a
// row (verify, then parse), so the last request's form is all that is kept: a WeakMap entry per
// request cost ~2 µs more a webhook (its ephemeron for the GC), a third of the parse it saves.
// Requests interleaved between the two asks (another webhook's verify in between) are parsed
// again, never given another's form: the entry answers only for the very same request object.
let last: { request: WebhookRequest; form: TwilioFormParams } | undefined;

/** The form of this request's raw body (parseTwilioForm), parsed once when asked in a row. */
export function twilioFormOf(request: WebhookRequest): TwilioFormParams {
  if (last?.request === request) return last.form;
  const form = parseTwilioForm(request.rawBody);
  last = { request, form };
  return form;
}

/** A Twilio SID: a two-letter type prefix and 32 hex digits, 34 characters in all. */
export const twilioSid = (prefix: string) => z.string().regex(new RegExp(`^${prefix}[0-9a-fA-F]{32}$`));

/**
 * Validates a raw form body (or its params, as twilioFormOf gives them) against one of
 * Twilio's webhook schemas. Throws
 * MalformedPayloadError naming the offending params, never their values (they are phone
 * numbers, message text and transcriptions).
 */
export function parseTwilioPayload<T extends z.ZodType>(
  schema: T,
  webhook: string,
  body: string | TwilioFormParams,
): z.output<T> {
  const result = schema.safeParse(typeof body === 'string' ? parseTwilioForm(body) : body);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`);
  throw new MalformedPayloadError(
    `Twilio ${webhook} webhook does not match the documented shape (${issues.length} issue(s))`,
    issues,
  );
}

// Inbound MMS carries at most 10 media; the cap only bounds the loop below.
const MAX_MEDIA = 100;

export type TwilioMedia = { url: string; contentType: string };

/**
 * Twilio's inbound messaging webhook (SMS, MMS, WhatsApp): only the params we use are
 * validated, every other param passes through untouched, and the `MediaUrl{N}` /
 * `MediaContentType{N}` pairs are collected into `media`.
 */
export const TwilioMessagingSchema = z
  .looseObject({
    MessageSid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/),
    AccountSid: twilioSid('AC'),
    From: z.string().min(1).max(320),
    To: z.string().min(1).max(320),
    Body: z.string().default(''),
    NumMedia: z
      .string()
      .regex(/^\d{1,3}$/)
      .default('0'),
    ProfileName: z.string().optional(),
    WaId: z.string().optional(),
    MessagingServiceSid: z.string().optional(),
    OptOutType: z.string().optional(),
    // A location shared on WhatsApp (its Body empty): never a reason to refuse the message.
    Latitude: z.string().optional(),
    Longitude: z.string().optional(),
    Label: z.string().optional(),
    Address: z.string().optional(),
  })
  .transform((form, ctx): typeof form & { media: TwilioMedia[] } => {
    const count = Number(form.NumMedia);
    if (count > MAX_MEDIA) {
      ctx.issues.push({
        code: 'custom',
        path: ['NumMedia'],
        message: `more than ${MAX_MEDIA}`,
        input: count,
      });
      return z.NEVER;
    }
    const media: TwilioMedia[] = [];
    for (let n = 0; n < count; n++) {
      const url = form[`MediaUrl${n}`];
      const contentType = form[`MediaContentType${n}`];
      if (typeof url !== 'string' || url === '') {
        ctx.issues.push({ code: 'custom', path: [`MediaUrl${n}`], message: 'required', input: url });
      }
      if (typeof contentType !== 'string') {
        ctx.issues.push({
          code: 'custom',
          path: [`MediaContentType${n}`],
          message: 'required',
          input: contentType,
        });
      }
      if (typeof url === 'string' && typeof contentType === 'string') media.push({ url, contentType });
    }
    return { ...form, media };
  });

export type TwilioMessagingPayload = z.output<typeof TwilioMessagingSchema>;

/**
 * Validates a raw inbound messaging body (or its form). Throws MalformedPayloadError naming
 * the offending params, never their values (they are phone numbers and message text).
 */
export function parseTwilioMessaging(body: string | TwilioFormParams): TwilioMessagingPayload {
  return parseTwilioPayload(TwilioMessagingSchema, 'messaging', body);
}

/**
 * A message of Twilio's Message resource as we read it back (a lookup's list page, a read by SID):
 * the fields read here; the rest passes through.
 */
export const TwilioMessageResourceSchema = z.looseObject({
  sid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/),
  body: z
    .string()
    .nullable()
    .transform((body) => body ?? ''),
  direction: z.string(),
  // Where it went, as Twilio says (`whatsapp:+…` on WhatsApp); `from` is null while a Messaging
  // Service has not picked its sender yet.
  to: z.string().max(320).optional(),
  from: z.string().max(320).nullable().optional(),
  // RFC 2822 ("Thu, 26 Nov 2026 11:43:00 +0000"), which Date.parse reads.
  date_created: z.string().refine((date) => !Number.isNaN(Date.parse(date))),
});
