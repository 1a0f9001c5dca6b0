import { describe, expect, it } from 'vitest';
import { parseProviderSecret } from '#lib/config/aws-secrets.ts';

// The provider secret as Secrets Manager gives it. Found at stop 23: a mistyped secret failed
// the cold start with V8's JSON.parse message, which quotes the text around the mistake.
describe('the provider secret', () => {
  it('should take the known names from a JSON object and ignore the rest', () => {
    // Act
    const entries = parseProviderSecret(
      JSON.stringify({ TWILIO_AUTH_TOKEN: 'tok-1', SOMETHING_ELSE: 'x', META_APP_SECRET: '  ' }),
    );

    // Assess
    expect(entries).toEqual({ TWILIO_AUTH_TOKEN: 'tok-1' });
  });

  it('should take the secondary Twilio auth token a rotation puts beside the primary', () => {
    // Act: found at stop 25: only one token was read, so a rotation refused webhooks
    const entries = parseProviderSecret(
      JSON.stringify({ TWILIO_AUTH_TOKEN: 'tok-1', TWILIO_AUTH_TOKEN_SECONDARY: 'tok-2' }),
    );

    // Assess
    expect(entries).toEqual({ TWILIO_AUTH_TOKEN: 'tok-1', TWILIO_AUTH_TOKEN_SECONDARY: 'tok-2' });
  });

  it('should take the Twilio webhook shared keys a Webhook Setting signs with (stop 27)', () => {
    // Act: the shared keys ride in the same provider secret; dropped here, every webhook a
    // Webhook Rule matches would be refused on AWS while npm start accepted it
    const entries = parseProviderSecret(
      JSON.stringify({
        TWILIO_AUTH_TOKEN: 'tok-1',
        TWILIO_WEBHOOK_SHARED_KEY: 'sk-1',
        TWILIO_WEBHOOK_SHARED_KEY_SECONDARY: 'sk-2',
      }),
    );

    // Assess
    expect(entries).toEqual({
      TWILIO_AUTH_TOKEN: 'tok-1',
      TWILIO_WEBHOOK_SHARED_KEY: 'sk-1',
      TWILIO_WEBHOOK_SHARED_KEY_SECONDARY: 'sk-2',
    });
  });

  it.each([
    ['a value not quoted', '{"TWILIO_AUTH_TOKEN": abcdef1234567890}'],
    ['text after the object', '{"TWILIO_AUTH_TOKEN": "abcdef1234567890"} abcdef1234567890'],
    ['a bare token', 'abcdef1234567890'],
  ])('should refuse %s without quoting any of it', (_, raw) => {
    // Act
    let message = '';
    try {
      parseProviderSecret(raw);
    } catch (error) {
      message = `${(error as Error).message} ${String((error as Error).cause ?? '')}`;
    }

    // Assess
    expect(message).toContain('provider secret');
    expect(message).not.toMatch(/abcdef|1234/);
  });

  it('should refuse an array, a string and nothing at all', () => {
    // Assess
    for (const raw of ['[]', '"text"', undefined]) {
      expect(() => parseProviderSecret(raw)).toThrow('The provider secret is not a JSON object');
    }
  });
});
