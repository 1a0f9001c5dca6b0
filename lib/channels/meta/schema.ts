// Meta webhook parsing: the envelope checked strictly, then every entry and event on its own.
import { z } from 'zod';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import { MessagingEntrySchema, type MessagingEvent, MessagingEventSchema } from './schema-messaging.ts';
import {
  WhatsAppChangeSchema,
  type WhatsAppEcho,
  WhatsAppEchoSchema,
  WhatsAppEntrySchema,
  type WhatsAppMessage,
  WhatsAppMessageSchema,
  type WhatsAppStatus,
  WhatsAppStatusSchema,
  type WhatsAppValue,
  WhatsAppValueSchema,
} from './schema-whatsapp.ts';

/** The envelope of every Meta webhook POST: parsed strictly; entries are checked one by one. */
export const MetaEnvelopeSchema = z.looseObject({
  object: z.string().min(1).max(100),
  entry: z.array(z.unknown()),
});

/** What a WhatsApp message needs from the change that carried it. */
export type WhatsAppContext = {
  displayPhoneNumber: string;
  phoneNumberId: string;
  contacts: NonNullable<WhatsAppValue['contacts']>;
};

/**
 * One checked unit of a webhook, in the order Meta sent it: a messaging event, a WhatsApp
 * message or status, or something we skip with a reason (a part that failed its schema, a
 * field we do not handle). Checking each unit on its own keeps one bad event from losing
 * the good ones around it.
 */
export type MetaItem =
  | { kind: 'messaging'; channel: 'messenger' | 'instagram'; standby: boolean; event: MessagingEvent }
  | { kind: 'whatsapp-message'; context: WhatsAppContext; message: WhatsAppMessage }
  | { kind: 'whatsapp-status'; status: WhatsAppStatus }
  | { kind: 'whatsapp-echo'; context: WhatsAppContext; echo: WhatsAppEcho }
  | { kind: 'skip'; reason: string };

export type MetaPayload = { object: string; items: MetaItem[] };

const MESSAGING_OBJECTS = { page: 'messenger', instagram: 'instagram' } as const;

/** Issues as `path code`, never the values (they are names, numbers and message text). */
export function issuesOf(error: z.ZodError, limit = 3): string[] {
  return error.issues.slice(0, limit).map((issue) => `${issue.path.join('.') || '(root)'} ${issue.code}`);
}

function invalid(where: string, error: z.ZodError): MetaItem {
  return { kind: 'skip', reason: `invalid-event ${where}: ${issuesOf(error).join('; ')}` };
}

/** Provider-chosen names in a reason are kept only when they look like names. */
export function safeName(value: string): string {
  return /^[a-z0-9_.-]{1,64}$/i.test(value) ? value : 'other';
}

function messagingItems(channel: 'messenger' | 'instagram', entries: unknown[], items: MetaItem[]): void {
  for (const [e, raw] of entries.entries()) {
    const entry = MessagingEntrySchema.safeParse(raw);
    if (!entry.success) {
      items.push(invalid(`entry[${e}]`, entry.error));
      continue;
    }
    for (const source of ['messaging', 'standby'] as const) {
      for (const [i, rawEvent] of (entry.data[source] ?? []).entries()) {
        const event = MessagingEventSchema.safeParse(rawEvent);
        items.push(
          event.success
            ? { kind: 'messaging', channel, standby: source === 'standby', event: event.data }
            : invalid(`entry[${e}].${source}[${i}]`, event.error),
        );
      }
    }
  }
}

function whatsappValueItems(where: string, value: WhatsAppValue, items: MetaItem[]): void {
  const context: WhatsAppContext = {
    displayPhoneNumber: value.metadata.display_phone_number,
    phoneNumberId: value.metadata.phone_number_id,
    contacts: value.contacts ?? [],
  };
  for (const [i, raw] of (value.messages ?? []).entries()) {
    const message = WhatsAppMessageSchema.safeParse(raw);
    items.push(
      message.success
        ? { kind: 'whatsapp-message', context, message: message.data }
        : invalid(`${where}.messages[${i}]`, message.error),
    );
  }
  for (const [i, raw] of (value.statuses ?? []).entries()) {
    const status = WhatsAppStatusSchema.safeParse(raw);
    items.push(
      status.success
        ? { kind: 'whatsapp-status', status: status.data }
        : invalid(`${where}.statuses[${i}]`, status.error),
    );
  }
  for (const [i, raw] of (value.message_echoes ?? []).entries()) {
    const echo = WhatsAppEchoSchema.safeParse(raw);
    items.push(
      echo.success
        ? { kind: 'whatsapp-echo', context, echo: echo.data }
        : invalid(`${where}.message_echoes[${i}]`, echo.error),
    );
  }
  // System-level errors about the app or account, not about one message: logged, never stored.
  if (value.errors?.length) items.push({ kind: 'skip', reason: 'whatsapp-errors' });
}

/** `messages` (messages and statuses), `smb_message_echoes` (what the business sent from the app). */
const WHATSAPP_FIELDS = new Set(['messages', 'smb_message_echoes']);

function whatsappChangeItems(where: string, raw: unknown, items: MetaItem[]): void {
  const change = WhatsAppChangeSchema.safeParse(raw);
  if (!change.success) {
    items.push(invalid(where, change.error));
  } else if (!WHATSAPP_FIELDS.has(change.data.field)) {
    // smb_app_state_sync (the app's contact book, coexistence) among them: names are not needed.
    items.push({ kind: 'skip', reason: `whatsapp-field:${safeName(change.data.field)}` });
  } else {
    const value = WhatsAppValueSchema.safeParse(change.data.value);
    if (value.success) whatsappValueItems(`${where}.value`, value.data, items);
    else items.push(invalid(`${where}.value`, value.error));
  }
}

function whatsappItems(entries: unknown[], items: MetaItem[]): void {
  for (const [e, raw] of entries.entries()) {
    const entry = WhatsAppEntrySchema.safeParse(raw);
    if (!entry.success) {
      items.push(invalid(`entry[${e}]`, entry.error));
      continue;
    }
    for (const [c, change] of entry.data.changes.entries()) {
      whatsappChangeItems(`entry[${e}].changes[${c}]`, change, items);
    }
  }
}

/**
 * Checks a parsed body: the envelope strictly (MalformedPayloadError from the caller when it
 * fails), then every entry and event on its own. An unknown `object` keeps no items.
 */
export function checkMetaEnvelope(envelope: z.infer<typeof MetaEnvelopeSchema>): MetaPayload {
  const items: MetaItem[] = [];
  const channel = Object.hasOwn(MESSAGING_OBJECTS, envelope.object)
    ? MESSAGING_OBJECTS[envelope.object as keyof typeof MESSAGING_OBJECTS]
    : undefined;
  if (channel) messagingItems(channel, envelope.entry, items);
  else if (envelope.object === 'whatsapp_business_account') whatsappItems(envelope.entry, items);
  return { object: envelope.object, items };
}

/**
 * Parses a raw webhook body: invalid JSON or an envelope without `object` and `entry[]`
 * throws MalformedPayloadError (paths only, never values); anything inside is checked leniently.
 */
export function parseMetaWebhook(rawBody: string): MetaPayload {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw new MalformedPayloadError('Meta webhook body is not JSON');
  }
  const envelope = MetaEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    const issues = issuesOf(envelope.error, 20);
    throw new MalformedPayloadError(
      `Meta webhook envelope does not match the documented shape (${issues.length} issue(s))`,
      issues,
    );
  }
  return checkMetaEnvelope(envelope.data);
}
