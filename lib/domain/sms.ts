/** How an SMS body is billed: the alphabet it needs, its segments and its length in that alphabet's units. */
export type SmsSegments = { encoding: 'GSM-7' | 'UCS-2'; segments: number; units: number };

// GSM 03.38 default alphabet (minus the escape code) and its extension table.
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
// Each costs two units: the escape code and the character.
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

const LIMITS = {
  'GSM-7': { single: 160, part: 153 },
  'UCS-2': { single: 70, part: 67 },
} as const;

function gsmUnits(char: string): number | null {
  if (GSM_BASIC.has(char)) return 1;
  if (GSM_EXTENSION.has(char)) return 2;
  return null;
}

/**
 * Segments as carriers count them: a concatenated message loses 7 GSM-7 characters or
 * 3 UCS-2 units per part to the header, and a two-unit character (an escaped GSM-7
 * extension, a UTF-16 surrogate pair) is never split across parts.
 */
export function smsSegments(text: string): SmsSegments {
  const chars = [...text];
  const gsm = chars.map(gsmUnits);
  const encoding = gsm.every((units) => units !== null) ? 'GSM-7' : 'UCS-2';
  const sizes = encoding === 'GSM-7' ? gsm.map((units) => units ?? 0) : chars.map((char) => char.length);
  const units = sizes.reduce((sum, size) => sum + size, 0);
  const { single, part } = LIMITS[encoding];
  if (units <= single) return { encoding, segments: 1, units };
  let segments = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > part) {
      segments += 1;
      used = 0;
    }
    used += size;
  }
  return { encoding, segments, units };
}

const POLISH: Readonly<Record<string, string>> = {
  ą: 'a',
  ć: 'c',
  ę: 'e',
  ł: 'l',
  ń: 'n',
  ó: 'o',
  ś: 's',
  ź: 'z',
  ż: 'z',
  Ą: 'A',
  Ć: 'C',
  Ę: 'E',
  Ł: 'L',
  Ń: 'N',
  Ó: 'O',
  Ś: 'S',
  Ź: 'Z',
  Ż: 'Z',
};

/** Polish letters to plain Latin, so a Polish text can travel as GSM-7. */
export function transliteratePolish(text: string): string {
  return text.replace(/[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]/g, (char) => POLISH[char] ?? char);
}
