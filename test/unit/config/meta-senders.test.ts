import { describe, expect, it } from 'vitest';
import { buildAppConfig } from '#lib/config/app-config.ts';
import { parseProviderSecret } from '#lib/config/aws-secrets.ts';
import { parseEnv } from '#lib/config/env.ts';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';

// Several WhatsApp numbers, Facebook Pages and Instagram accounts on one Meta app: until now one
// of each (WHATSAPP_PHONE_NUMBER_ID, META_PAGE_ACCESS_TOKEN, INSTAGRAM_ACCESS_TOKEN) could be
// named, so a message to a second number was never answered and one to a second Page was
// answered with the first Page's token (refused by Meta). WHATSAPP_PHONE_NUMBER_IDS names more
// numbers (one token covers a WhatsApp Business Account), META_PAGE_ACCESS_TOKENS and
// INSTAGRAM_ACCESS_TOKENS map each Page / account id to its token.

const BASE = {
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_AUTH_TOKEN: '0123456789abcdef0123456789abcdef',
  AGENT_API_TOKEN: 'generated-agent-token-0123456789',
  META_APP_SECRET: 'meta-app-secret-0123456789',
  META_VERIFY_TOKEN: 'a-long-random-string-you-choose',
};

const configOf = (values: Record<string, string>) =>
  buildAppConfig(parseEnv({ ...BASE, ...values }), DEFAULT_BUSINESS_CONFIG);

/** What parsing refused with, message and cause, or '' when it took the values. */
function refusal(values: Record<string, string>): string {
  try {
    configOf(values);
    return '';
  } catch (error) {
    return `${(error as Error).message} ${String((error as Error).cause ?? '')}`;
  }
}

describe('several Meta senders in the configuration', () => {
  it('should name every WhatsApp number we send from: the single setting first, then the list', () => {
    // Act
    const config = configOf({
      WHATSAPP_ACCESS_TOKEN: 'EAAwhatsappToken0123456789abcdef',
      WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
      WHATSAPP_PHONE_NUMBER_IDS: ' 207651463353033, 106540352242922 ,308762574464144',
    });

    // Assess
    expect(config.meta?.whatsappPhoneNumberIds).toEqual([
      '106540352242922',
      '207651463353033',
      '308762574464144',
    ]);
    expect(config.misconfiguredChannels).toEqual([]);
  });

  it('should take the Page and Instagram account tokens by id', () => {
    // Act
    const config = configOf({
      META_PAGE_ACCESS_TOKENS: JSON.stringify({
        '104857600123456': 'EAApageA',
        '104857600654321': 'EAApageB',
      }),
      INSTAGRAM_ACCESS_TOKENS: JSON.stringify({ '17841400123456789': 'EAAigA' }),
    });

    // Assess
    expect(config.meta?.pageAccessTokens).toEqual({
      '104857600123456': 'EAApageA',
      '104857600654321': 'EAApageB',
    });
    expect(config.meta?.instagramAccessTokens).toEqual({ '17841400123456789': 'EAAigA' });
  });

  it('should keep the single settings working unchanged', () => {
    // Act
    const config = configOf({
      META_PAGE_ACCESS_TOKEN: 'EAApageSingle',
      WHATSAPP_ACCESS_TOKEN: 'EAAwhatsappToken0123456789abcdef',
      WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
    });

    // Assess
    expect(config.meta).toMatchObject({
      pageAccessToken: 'EAApageSingle',
      pageAccessTokens: {},
      instagramAccessTokens: {},
      whatsappPhoneNumberIds: ['106540352242922'],
    });
  });

  it.each([
    ['META_PAGE_ACCESS_TOKENS', 'not json secret-EAAxyz'],
    ['META_PAGE_ACCESS_TOKENS', '["secret-EAAxyz"]'],
    ['META_PAGE_ACCESS_TOKENS', '{"my page":"secret-EAAxyz"}'],
    ['META_PAGE_ACCESS_TOKENS', '{"104857600123456":""}'],
    ['INSTAGRAM_ACCESS_TOKENS', '{"17841400123456789":"secret EAAxyz"}'],
    ['INSTAGRAM_ACCESS_TOKENS', '{"17841400123456789":42}'],
    ['WHATSAPP_PHONE_NUMBER_IDS', '106540352242922,secret-EAAxyz'],
  ])('should refuse a malformed %s, naming it and never showing a value', (name, value) => {
    // Act
    const message = refusal({ [name]: value });

    // Assess
    expect(message).toContain(name);
    expect(message).not.toContain('secret');
    expect(message).not.toContain('EAAxyz');
  });

  it('should take the token maps from the provider secret, as a JSON object or as its text', () => {
    // Act
    const entries = parseProviderSecret(
      JSON.stringify({
        META_PAGE_ACCESS_TOKENS: { '104857600123456': 'EAApageA' },
        INSTAGRAM_ACCESS_TOKENS: JSON.stringify({ '17841400123456789': 'EAAigA' }),
      }),
    );

    // Assess
    expect(configOf(entries).meta).toMatchObject({
      pageAccessTokens: { '104857600123456': 'EAApageA' },
      instagramAccessTokens: { '17841400123456789': 'EAAigA' },
    });
  });

  it('should take a WhatsApp number list without the single id as complete, and the list without the token as half', () => {
    // Act
    const listed = configOf({
      WHATSAPP_ACCESS_TOKEN: 'EAAwhatsappToken0123456789abcdef',
      WHATSAPP_PHONE_NUMBER_IDS: '207651463353033',
    });
    let refused = '';
    try {
      configOf({ WHATSAPP_PHONE_NUMBER_IDS: '207651463353033' });
    } catch (error) {
      refused = (error as Error).message;
    }

    // Assess
    expect(listed.meta?.whatsappPhoneNumberIds).toEqual(['207651463353033']);
    expect(refused).toContain('WHATSAPP_ACCESS_TOKEN is missing');
  });

  it('should count Messenger and Instagram answered in production when only their token maps are set', () => {
    // Act
    const config = configOf({
      NODE_ENV: 'production',
      META_PAGE_ACCESS_TOKENS: JSON.stringify({ '104857600123456': 'EAApageA' }),
      INSTAGRAM_ACCESS_TOKENS: JSON.stringify({ '17841400123456789': 'EAAigA' }),
      WHATSAPP_ACCESS_TOKEN: 'EAAwhatsappToken0123456789abcdef',
      WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
    });

    // Assess
    expect(config.tokenlessChannels).toEqual([]);
  });
});
