import { z } from 'zod';

/** Every channel a customer can reach us on; the public contract's `channel` values. */
export const CHANNELS = ['sms', 'mms', 'whatsapp', 'voice', 'messenger', 'instagram', 'email'] as const;
export const ChannelSchema = z.enum(CHANNELS);
export type Channel = z.infer<typeof ChannelSchema>;

export const LOCALES = ['pl', 'en'] as const;
export const LocaleSchema = z.enum(LOCALES);
export type Locale = z.infer<typeof LocaleSchema>;
