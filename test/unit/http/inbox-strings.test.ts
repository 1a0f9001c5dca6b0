import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CHANNELS } from '#lib/domain/channel.ts';
import { OPT_OUT_READS } from '#lib/domain/contact.ts';
import { buildOpenApiDocument } from '#lib/http/openapi/document.ts';
import { OPERATIONS } from '#lib/http/openapi/operations.ts';
import { SWITCHED_OFF_REASON } from '#lib/use-cases/ack-lookups.ts';

// The inbox page's dictionaries are plain browser modules (lib/http/inbox/, served as they are):
// imported here by URL, as the browser does, so no type declarations are needed for them.
type Entry = string | Record<string, string>;
type Dictionaries = {
  DICTIONARIES: Record<string, Record<string, Entry>>;
  translate: (language: string, key: string, params?: Record<string, unknown>) => string;
};
const { DICTIONARIES, translate } = (await import(
  new URL('../../../lib/http/inbox/dictionaries.js', import.meta.url).href
)) as Dictionaries;

/** The {placeholders} of an entry (of all its plural forms together), sorted. */
function placeholders(entry: Entry): string[] {
  const texts = typeof entry === 'string' ? [entry] : Object.values(entry);
  return [
    ...new Set(texts.flatMap((text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string))),
  ].sort();
}

describe('the inbox page dictionaries', () => {
  it('should hold English and Polish, with exactly the same keys', () => {
    // Act
    const en = Object.keys(DICTIONARIES.en ?? {}).sort();
    const pl = Object.keys(DICTIONARIES.pl ?? {}).sort();

    // Assess
    expect(Object.keys(DICTIONARIES).sort()).toEqual(['en', 'pl']);
    expect(en.length).toBeGreaterThan(100);
    expect(pl.filter((key) => !en.includes(key))).toEqual([]);
    expect(en.filter((key) => !pl.includes(key))).toEqual([]);
  });

  it('should give each key the same {placeholders} in both languages, and no empty text', () => {
    // Act
    const differing = Object.keys(DICTIONARIES.en ?? {}).filter(
      (key) =>
        placeholders((DICTIONARIES.en as Record<string, Entry>)[key] as Entry).join() !==
        placeholders((DICTIONARIES.pl?.[key] ?? '') as Entry).join(),
    );
    const empty = Object.entries(DICTIONARIES).flatMap(([language, dictionary]) =>
      Object.entries(dictionary)
        .filter(([, entry]) =>
          (typeof entry === 'string' ? [entry] : Object.values(entry)).some((t) => !t.trim()),
        )
        .map(([key]) => `${language} ${key}`),
    );

    // Assess
    expect(differing).toEqual([]);
    expect(empty).toEqual([]);
  });

  it("should give each plural every form its language's plural rules choose from, and no other", () => {
    for (const [language, dictionary] of Object.entries(DICTIONARIES)) {
      // Prepare
      const categories = [...new Intl.PluralRules(language).resolvedOptions().pluralCategories].sort();

      // Act
      const plurals = Object.entries(dictionary).filter(([, entry]) => typeof entry !== 'string');

      // Assess
      expect(plurals.length).toBeGreaterThan(0);
      for (const [key, forms] of plurals) {
        expect({ language, key, forms: Object.keys(forms).sort() }).toEqual({
          language,
          key,
          forms: categories,
        });
      }
    }
  });

  it('should choose the Polish plural of 1, 2 and 5 (one, few, many) and the English one of 1 and 2', () => {
    // Act
    const pl = [1, 2, 5, 12, 22].map((count) => translate('pl', 'list.count', { count }));
    const en = [1, 2, 5].map((count) => translate('en', 'list.count', { count }));

    // Assess
    expect(pl).toEqual(['1 rozmowa', '2 rozmowy', '5 rozmów', '12 rozmów', '22 rozmowy']);
    expect(en).toEqual(['1 conversation', '2 conversations', '5 conversations']);
  });

  it('should fill the placeholders, and fall back to English for a language it does not have', () => {
    // Act
    const filled = translate('pl', 'status.replyTo', { who: 'Ewa', text: 'wysłana.' });
    const unknown = translate('de', 'reply.send');

    // Assess
    expect(filled).toBe('Twoja odpowiedź (Ewa): wysłana.');
    expect(unknown).toBe('Send reply');
  });
});

// Stop 29: an API refusal was quoted in English inside a Polish sentence. Every code the API
// documents for a route the page calls has words of the page's own, in both languages.
describe("the inbox page's words for the API's error codes", () => {
  /** The API paths the page's modules call (each `'/api/…'` they hold), as the OpenAPI document names them. */
  async function calledPaths(): Promise<string[]> {
    const folder = new URL('../../../lib/http/inbox/', import.meta.url);
    const files = (await readdir(folder)).filter((name) => name.endsWith('.js'));
    const paths = new Set<string>();
    for (const file of files) {
      const source = await readFile(new URL(file, folder), 'utf8');
      for (const literal of source.matchAll(/[`'"](\/api\/[^`'"?]*)/g)) {
        paths.add((literal[1] as string).replace(/\$\{[^}]+\}/g, '{id}'));
      }
    }
    return [...paths].sort();
  }

  it('should know every error code of every route the page calls, in English and in Polish', async () => {
    // Prepare
    const document = buildOpenApiDocument(OPERATIONS, { version: 'test' }) as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, { 'x-error-codes'?: string[] }> }>>;
    };
    const paths = await calledPaths();

    // Act: every operation on those paths (each of them has one method)
    const undocumented = paths.filter((path) => !document.paths[path]);
    const codes = [
      ...new Set(
        paths.flatMap((path) =>
          Object.values(document.paths[path] ?? {}).flatMap((operation) =>
            Object.values(operation.responses).flatMap((response) => response['x-error-codes'] ?? []),
          ),
        ),
      ),
    ].sort();
    const missing = Object.entries(DICTIONARIES).flatMap(([language, dictionary]) =>
      codes
        .filter((code) => dictionary[`apiError.${code}`] === undefined)
        .map((code) => `${language} ${code}`),
    );

    // Assess
    expect(paths).toEqual([
      '/api/conversations',
      '/api/conversations/{id}',
      '/api/conversations/{id}/assign',
      '/api/conversations/{id}/notes',
      '/api/conversations/{id}/reopen',
      '/api/conversations/{id}/replies',
      '/api/conversations/{id}/resolve',
      '/api/me',
      '/api/people',
      '/api/service-level',
    ]);
    expect(undocumented).toEqual([]);
    expect(codes).toContain('TEXT_TOO_LONG');
    expect(missing).toEqual([]);
  });
});

describe("the inbox page's words for channels", () => {
  // Stop 30: a lookup that waits while its channel's sending is switched off keeps its ack
  // pending with this reason, which the page showed as a bare code.
  it("should say in both languages why an ack waits while its channel's sending is switched off", () => {
    // Act
    const said = ['en', 'pl'].map((language) => DICTIONARIES[language]?.[`reason.${SWITCHED_OFF_REASON}`]);

    // Assess
    expect(said).toEqual([expect.stringMatching(/\w/), expect.stringMatching(/\w/)]);
  });

  it('should name every channel the API has, in English and in Polish', () => {
    // Act
    const missing = Object.entries(DICTIONARIES).flatMap(([language, dictionary]) =>
      CHANNELS.filter((channel) => dictionary[`channel.${channel}`] === undefined).map(
        (channel) => `${language} ${channel}`,
      ),
    );

    // Assess
    expect(missing).toEqual([]);
    expect(translate('pl', 'channel.voice')).toBe('telefon');
  });

  // Stop 34: a bounce of our mail and a spam complaint were shown as the customer's opt-out, like
  // an SMS STOP, though mail lifts a bounce and nothing lifts a complaint but the customer.
  it('should say in both languages why a customer gets no automatic messages, each reason its own words', () => {
    // Act
    const said = ['en', 'pl'].map((language) =>
      OPT_OUT_READS.map((reason) => translate(language, `optOut.${reason}`)),
    );

    // Assess
    for (const words of said) {
      expect(words.every((text) => /\w/.test(text) && !text.startsWith('optOut.'))).toBe(true);
      expect(new Set(words).size).toBe(OPT_OUT_READS.length);
    }
    expect(said[1]?.[2]).toContain('spam');
    // Mail has no START: only a STOP's words promise one (stop 35: an email opt-out stored without
    // a reason was said as a STOP, "their START lifts it").
    for (const words of said) expect(words.filter((text) => text.includes('START'))).toEqual([words[0]]);
  });
});
