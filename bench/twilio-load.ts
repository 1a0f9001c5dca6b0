import { twilioMessageParams, twilioWebhook } from '#lib/local/simulate-payloads.ts';

/** One HTTP request of a load run, signed and ready to send. */
export type LoadRequest = { path: string; headers: Record<string, string>; body: string };

export const BENCH_ACCOUNT_SID = `AC${'b'.repeat(32)}`;
export const BENCH_AUTH_TOKEN = 'bench0123456789abcdef0123456789ab';
export const BENCH_AGENT_TOKEN = 'bench-agent-token-0123456789abcdef';
const OUR_NUMBER = '+48221234567';
// A realistic first message (Polish, with diacritics), so the form is about the 600 bytes MEASURED.md used.
const TEXT =
  'Dzień dobry, zamówiłem w zeszłym tygodniu ekspres do kawy (zamówienie 48213) i nadal nie dotarł. ' +
  'Czy mogą Państwo sprawdzić, gdzie jest przesyłka? Dziękuję, Jan';

/** The customer number of contact n: valid Polish mobile numbers, one per n (n < 100,000,000). */
export function customerNumber(n: number): string {
  return `+48${600_000_000 + n}`;
}

/** A signed inbound SMS from customer n, with a fresh MessageSid, as Twilio posts it. */
export function signedSms(n: number, publicUrl: string): LoadRequest {
  const webhook = twilioWebhook(
    '/webhooks/twilio/messaging',
    twilioMessageParams({
      from: customerNumber(n),
      to: OUR_NUMBER,
      body: TEXT,
      accountSid: BENCH_ACCOUNT_SID,
    }),
    { authToken: BENCH_AUTH_TOKEN, publicUrl },
  );
  // Twilio sends each webhook with its own idempotency token (test/support/twilio-factory.ts does too);
  // without it the app makes a random correlation id, a cost real webhooks never pay.
  const token = `${n.toString(16).padStart(8, '0')}${'0'.repeat(24)}`;
  return {
    ...webhook,
    headers: { ...webhook.headers, 'user-agent': 'TwilioProxy/1.1', 'i-twilio-idempotency-token': token },
  };
}

/** `count` signed SMS from customers first, first + 1, … (each message its own MessageSid). */
export function signedSmsBatch(first: number, count: number, publicUrl: string): LoadRequest[] {
  return Array.from({ length: count }, (_, i) => signedSms(first + i, publicUrl));
}
