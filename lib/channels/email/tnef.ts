/**
 * Outlook's winmail.dat (TNEF, application/ms-tnef) read only as far as to tell whether it
 * carries files: a signature, a key, then attributes, each a level (1 the message, 2 an
 * attachment), an id, a length, its bytes and a checksum. A bundle of the message's formatting
 * alone is Outlook's, not the customer's; one with an attachment-level attribute carries the
 * files the customer attached (Outlook puts them all inside it), and one that cannot be read may.
 */
const TNEF_SIGNATURE = 0x223e9f78;
const LEVEL_ATTACHMENT = 0x02;
/** Signature and key. */
const HEAD_BYTES = 6;
/** Level, id and length before an attribute's bytes; its checksum after them. */
const ATTRIBUTE_HEAD_BYTES = 9;
const CHECKSUM_BYTES = 2;

/** Whether a winmail.dat may carry the sender's files: true unless it reads as formatting alone. */
export function tnefMayHoldFiles(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < HEAD_BYTES || view.getUint32(0, true) !== TNEF_SIGNATURE) return true;
  let offset = HEAD_BYTES;
  while (offset < bytes.byteLength) {
    if (offset + ATTRIBUTE_HEAD_BYTES > bytes.byteLength) return true;
    if (view.getUint8(offset) === LEVEL_ATTACHMENT) return true;
    offset += ATTRIBUTE_HEAD_BYTES + view.getUint32(offset + 5, true) + CHECKSUM_BYTES;
  }
  return offset !== bytes.byteLength;
}
