/** Content type of every TwiML answer; Twilio reads the charset from the XML declaration too. */
export const TWIML_CONTENT_TYPE = 'text/xml; charset=utf-8';

/** Opens every TwiML document. */
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

// Characters XML 1.0 forbids even when escaped (C0 controls, lone surrogates, U+FFFE/U+FFFF):
// one of them would make Twilio reject the whole document.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Escapes text for an XML element or a double- or single-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(NOT_XML_CHAR, '').replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

/** TwiML that tells Twilio to send nothing back. */
export function emptyTwiml(): string {
  return `${XML_DECLARATION}<Response/>`;
}
