import type { Env } from './env.ts';

// The channels a production function finds configured by half (AppConfig.misconfiguredChannels):
// what is missing and what it would cause, by name only, never a value.

/** A channel a production function switched off because it is configured by half. */
export type MisconfiguredChannel = {
  /**
   * 'twilio': all of /webhooks/twilio, but for the webhooks a configured shared key verifies
   * (those carrying Twilio's Settings header), which are recorded; 'meta': all of
   * /webhooks/meta; 'whatsapp': Meta's WhatsApp Cloud posts only; 'email' and 'twilio-sending': none, their webhooks stay up (the
   * messages are recorded; acks, late notices and replies cannot go: reported only). Their acks
   * and late notices wait, no try spent, until a deployment with the setting sends them.
   */
  channel: 'twilio' | 'twilio-sending' | 'meta' | 'whatsapp' | 'email';
  /** The settings to add (names only, never a value). */
  missing: string[];
  /** What is wrong and what it would have caused (names only). */
  reason: string;
};

/**
 * Finds a channel set up by half, where one half is plainly there and the other missing: it
 * would start, record that channel's messages and never answer them (or never receive any).
 * The halves often live apart (a token in the provider secret, the WhatsApp number id in the
 * stack's context), so a deploy can forget one. A channel with neither half is simply off.
 */
export function halfConfiguredChannels(env: Env): MisconfiguredChannel[] {
  const found: MisconfiguredChannel[] = [];
  const unanswered = '(WhatsApp Cloud messages would go unanswered)';
  // The number ids (-c whatsappPhoneNumberId / whatsappPhoneNumberIds): either names one.
  const numbers = env.WHATSAPP_PHONE_NUMBER_ID || env.WHATSAPP_PHONE_NUMBER_IDS.length > 0;
  if (env.WHATSAPP_ACCESS_TOKEN && !numbers) {
    found.push({
      channel: 'whatsapp',
      missing: ['WHATSAPP_PHONE_NUMBER_ID'],
      reason: `WHATSAPP_PHONE_NUMBER_ID is missing while WHATSAPP_ACCESS_TOKEN is set ${unanswered}`,
    });
  }
  if (numbers && !env.WHATSAPP_ACCESS_TOKEN) {
    const set = env.WHATSAPP_PHONE_NUMBER_ID ? 'WHATSAPP_PHONE_NUMBER_ID' : 'WHATSAPP_PHONE_NUMBER_IDS';
    found.push({
      channel: 'whatsapp',
      missing: ['WHATSAPP_ACCESS_TOKEN'],
      reason: `WHATSAPP_ACCESS_TOKEN is missing while ${set} is set ${unanswered}`,
    });
  }
  const webhook = (['META_APP_SECRET', 'META_VERIFY_TOKEN'] as const).filter((name) => !env[name]);
  // What plainly means Meta is meant to run: a sending token, or the WhatsApp number id (the
  // stack's context) with a secret that holds no Meta value. The webhook is then switched off
  // (503, retried), as the alarm says, not absent (404) as for a channel never set up.
  const tokens = (
    [
      'META_PAGE_ACCESS_TOKEN',
      'META_PAGE_ACCESS_TOKENS',
      'INSTAGRAM_ACCESS_TOKEN',
      'INSTAGRAM_ACCESS_TOKENS',
      'WHATSAPP_ACCESS_TOKEN',
      'WHATSAPP_PHONE_NUMBER_ID',
      'WHATSAPP_PHONE_NUMBER_IDS',
    ] as const
  ).filter((name) => isSet(env[name]));
  const [alone] = webhook;
  if (webhook.length === 1 && alone) {
    found.push({
      channel: 'meta',
      missing: [alone],
      reason: `${alone} is missing while ${alone === 'META_APP_SECRET' ? 'META_VERIFY_TOKEN' : 'META_APP_SECRET'} is set (the Meta webhook would be off)`,
    });
  } else if (webhook.length === 2 && tokens.length > 0) {
    found.push({
      channel: 'meta',
      missing: [...webhook],
      reason: `META_APP_SECRET and META_VERIFY_TOKEN are missing while ${tokens.join(', ')} ${tokens.length > 1 ? 'are' : 'is'} set (the Meta webhook would be off: nothing would arrive to answer)`,
    });
  }
  return found;
}

/** A text, a list or a map with something in it. */
function isSet(value: string | readonly string[] | Record<string, string> | undefined): boolean {
  if (value === undefined) return false;
  return typeof value === 'string' || Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0;
}

/** A Meta channel whose messages arrive but cannot be answered: its sending token is missing. */
export type TokenlessChannel = { channel: 'messenger' | 'instagram' | 'whatsapp'; missing: string[] };

/**
 * Messenger or Instagram without its sending token, WhatsApp Cloud without its token and number
 * id, while Meta's webhook is on (production only):
 * Meta sends a channel's messages only for a Page (an Instagram account) the business subscribed
 * to the app, so one arriving means the channel is used and its token was forgotten. Not reported
 * at start (a business may use neither): its messages are recorded, their acks and late notices
 * wait (CHANNEL_MISCONFIGURED) and each one arriving is reported (ChannelMisconfigured).
 */
export function tokenlessMetaChannels(env: Env, production: boolean): TokenlessChannel[] {
  if (!production || !env.META_APP_SECRET || !env.META_VERIFY_TOKEN) return [];
  const found: TokenlessChannel[] = [];
  if (!env.META_PAGE_ACCESS_TOKEN && !isSet(env.META_PAGE_ACCESS_TOKENS))
    found.push({ channel: 'messenger', missing: ['META_PAGE_ACCESS_TOKEN'] });
  if (!env.INSTAGRAM_ACCESS_TOKEN && !isSet(env.INSTAGRAM_ACCESS_TOKENS))
    found.push({ channel: 'instagram', missing: ['INSTAGRAM_ACCESS_TOKEN'] });
  // WhatsApp Cloud with neither half (one half alone is halfConfiguredChannels'): a message comes
  // only from a number subscribed to our app, so it is used, its settings forgotten.
  if (!env.WHATSAPP_ACCESS_TOKEN && !env.WHATSAPP_PHONE_NUMBER_ID && !isSet(env.WHATSAPP_PHONE_NUMBER_IDS))
    found.push({ channel: 'whatsapp', missing: ['WHATSAPP_ACCESS_TOKEN', 'WHATSAPP_PHONE_NUMBER_ID'] });
  return found;
}

/**
 * Mail received but never answerable: a Mailgun signing key (or the stack's mail domain, whose
 * receipt rule delivers SES mail) with no SES_FROM_ADDRESS, which every email ack and reply is
 * sent from. Production only: npm start answers through its outbox (and always generates a
 * Mailgun key), so it neither needs the address nor refuses to start without it.
 */
export function unansweredEmail(env: Env, sender: 'outbox' | 'provider'): MisconfiguredChannel[] {
  if (sender !== 'provider' || env.SES_FROM_ADDRESS) return [];
  const receiving = (['MAILGUN_SIGNING_KEY', 'MAIL_DOMAIN'] as const).filter((name) => env[name]);
  if (receiving.length === 0) return [];
  return [
    {
      channel: 'email',
      missing: ['SES_FROM_ADDRESS'],
      reason: `SES_FROM_ADDRESS is missing while ${receiving.join(' and ')} ${receiving.length > 1 ? 'are' : 'is'} set (mail is recorded, but its acknowledgements wait until it is set, and agents' replies to it are refused)`,
    },
  ];
}

/**
 * Twilio without its auth token (its webhooks cannot be verified: switched off, but for those a
 * Webhook Rule signs with a configured shared key) or only without its account SID (its webhooks
 * are verified with the token and recorded; nothing can be sent through it). Production only:
 * npm start generates both when unset and refuses a run without them otherwise
 * (requireSecrets). Both missing is reported too, though a business may not use Twilio
 * (SWITCHBOARD_TWILIO=off says so): a secret that lost its values is the likelier cause.
 */
export function missingTwilio(env: Env): MisconfiguredChannel[] {
  const missing = (['TWILIO_AUTH_TOKEN', 'TWILIO_ACCOUNT_SID'] as const).filter((name) => !env[name]);
  if (missing.length === 0) return [];
  if (env.TWILIO_AUTH_TOKEN) {
    return [
      {
        channel: 'twilio-sending',
        missing: [...missing],
        reason:
          "TWILIO_ACCOUNT_SID is missing from the provider secret (Twilio's messages and calls are recorded, but nothing is sent through Twilio: their acknowledgements, late notices and agents' replies wait until it is put back)",
      },
    ];
  }
  const verb = missing.length > 1 ? 'are' : 'is';
  if (env.TWILIO_WEBHOOK_SHARED_KEY || env.TWILIO_WEBHOOK_SHARED_KEY_SECONDARY) {
    return [
      {
        channel: 'twilio',
        missing: [...missing],
        reason: `${missing.join(' and ')} ${verb} missing from the provider secret (Twilio's webhooks that a Webhook Rule signs with the configured shared key are recorded; the others are refused, and Twilio does not post them again: those messages and calls are lost; nothing is sent through Twilio)`,
      },
    ];
  }
  return [
    {
      channel: 'twilio',
      missing: [...missing],
      reason: `${missing.join(' and ')} ${verb} missing from the provider secret (Twilio's webhooks are refused, and Twilio does not post them again: its messages and calls are lost; nothing is sent through Twilio)`,
    },
  ];
}
