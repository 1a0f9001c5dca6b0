import type { Locale } from '../channel.ts';

/** Said after the spoken promise: the caller may leave a message instead of waiting. */
export const LEAVE_A_MESSAGE: Readonly<Record<Locale, string>> = {
  pl: 'Jeśli chcesz, zostaw wiadomość po sygnale, a na koniec naciśnij krzyżyk albo się rozłącz.',
  en: 'If you like, leave a message after the tone, then press the hash key or simply hang up.',
};

/** Said once the voicemail is recorded. */
export const MESSAGE_RECORDED: Readonly<Record<Locale, string>> = {
  pl: 'Dziękujemy, mamy Twoją wiadomość. Do usłyszenia.',
  en: 'Thank you, we have your message. Goodbye.',
};
