import { z } from 'zod';
import { LOCALES, type Locale } from './channel.ts';
import type { TextLimit } from './text-limits.ts';

/**
 * The approved WhatsApp template an agent's reply goes as after the 24-hour customer service
 * window, for one locale: on the Cloud API its name and language code, through Twilio its
 * Content template (ContentSid). Its body takes two text parameters, `{{1}}` the agent's text and
 * `{{2}}` the signature (name and direct contact), as docs/channels.md shows.
 */
const ReplyTemplateSchema = z
  .strictObject({
    meta: z
      .strictObject({
        name: z.string().regex(/^[a-z0-9_]{1,512}$/, { error: 'must be lower-case letters, digits or _' }),
        language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, {
          error: 'must be a WhatsApp language code such as pl or en_US',
        }),
      })
      .optional(),
    twilio: z
      .strictObject({
        contentSid: z
          .string()
          .regex(/^HX[0-9a-fA-F]{32}$/, { error: 'must be a Content SID (HX and 32 hex digits)' }),
      })
      .optional(),
  })
  .refine((template) => template.meta !== undefined || template.twilio !== undefined, {
    error: 'needs meta (name, language) or twilio (contentSid)',
  });

export const ReplyTemplatesSchema = z.strictObject(
  Object.fromEntries(LOCALES.map((locale) => [locale, ReplyTemplateSchema.optional()])) as Record<
    Locale,
    z.ZodOptional<typeof ReplyTemplateSchema>
  >,
);
export type ReplyTemplates = z.infer<typeof ReplyTemplatesSchema>;

/** A template as one send names it: Meta's name and language, or Twilio's ContentSid (no language). */
export type TemplateRef = { name: string; language?: string };

/** The template configured for a reply in `locale` through `provider`, or null for none. */
export function replyTemplateFor(
  templates: ReplyTemplates,
  provider: string,
  locale: Locale,
): TemplateRef | null {
  const template = templates[locale];
  if (provider === 'meta' && template?.meta) return { ...template.meta };
  if (provider === 'twilio' && template?.twilio) return { name: template.twilio.contentSid };
  return null;
}

/**
 * The most a template's text parameter takes: Meta's limit for a body parameter in a template
 * that has other components (1,024 characters; 32,768 only when the body is all there is), which
 * the WhatsApp template body's own 1,024 also caps when Twilio's Content API carries it.
 */
export const TEMPLATE_PARAMETER_LIMIT: TextLimit = { chars: 1024 };

/**
 * The agent's text as a template parameter can carry it: WhatsApp refuses a parameter with a
 * newline, a tab or more than four consecutive spaces (Cloud API 132018), so each line break (and
 * the blank lines between paragraphs) becomes " / " and every other run of whitespace one space.
 * The customer gets this, and it is what is stored.
 */
export function templateText(text: string): string {
  return text
    .trim()
    .split(/\s*(?:\r\n|\r|\n)\s*/)
    .filter((line) => line !== '')
    .map((line) => line.replace(/\s+/g, ' '))
    .join(' / ');
}

/** What a reply sent as a template is stored as: its text parameter, then its signature on the next line. */
export function templateStoredText(parameters: readonly [string, string]): string {
  return `${parameters[0]}\n${parameters[1]}`;
}
