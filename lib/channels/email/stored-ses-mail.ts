import type { InboundEvent } from '#lib/domain/message.ts';
import { headerValues, type MailHeader, parseMime } from './mime.ts';
import { normalizeMail, type SaveAttachment } from './normalize-mail.ts';

export type StoredSesMailDeps = {
  saveAttachment: SaveAttachment;
  ourAddresses: readonly string[];
};

/**
 * What the SES notification would have said, read from the headers SES put on top of the mail
 * it stored: `Return-Path` (the envelope sender), its `Received` line (`… with SMTP id <SES
 * message id> for <recipient>; …`) and, with scanning on, `X-SES-Spam-Verdict` /
 * `X-SES-Virus-Verdict`. SES prepends them, so the first of each is SES's own; anything the
 * sender wrote further down is ignored.
 */
export function sesEnvelopeOf(
  headers: readonly MailHeader[],
  sesMessageId: string,
): { recipient?: string; envelopeSender?: string; verdicts: { spam?: string; virus?: string } } {
  const first = (name: string) => headerValues(headers, name)[0]?.trim();
  const envelope: {
    recipient?: string;
    envelopeSender?: string;
    verdicts: { spam?: string; virus?: string };
  } = { verdicts: {} };
  const returnPath = first('return-path');
  if (returnPath !== undefined) envelope.envelopeSender = returnPath;
  const received = first('received');
  // The recipient only from SES's own line: the SMTP id is this mail's SES message id.
  if (received && /\bwith SMTP id (\S+)/i.exec(received)?.[1] === sesMessageId) {
    const recipient = /\bfor\s+<?([^\s<>;@]+@[^\s<>;@]+)>?\s*;/i.exec(received)?.[1];
    if (recipient) envelope.recipient = recipient;
  }
  const spam = first('x-ses-spam-verdict');
  if (spam) envelope.verdicts.spam = spam;
  const virus = first('x-ses-virus-verdict');
  if (virus) envelope.verdicts.virus = virus;
  return envelope;
}

/**
 * A raw mail an SES receipt rule stored in S3, normalized as if its SNS notification had come
 * (see normalizeSesPayload): provider `ses`, providerMessageId = the SES message id (the
 * object's name), so the mail and a late notification for it are one message.
 */
export async function normalizeStoredSesMail(
  raw: Uint8Array,
  sesMessageId: string,
  deps: StoredSesMailDeps,
): Promise<InboundEvent[]> {
  const mail = await parseMime(raw);
  return normalizeMail(mail, {
    provider: 'ses',
    providerMessageId: sesMessageId,
    ...sesEnvelopeOf(mail.headers, sesMessageId),
    ourAddresses: deps.ourAddresses,
    saveAttachment: deps.saveAttachment,
  });
}
