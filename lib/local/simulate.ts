import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
// Only the signature helpers: the whole twilio package costs ~175 ms to import.
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { loadDevSecrets } from './dev-secrets.ts';
import { DEFAULT_DATA_DIR } from './server.ts';

const USAGE = `Usage: npm run simulate -- sms --from +48601234567 --body "Dzień dobry" [--to +48221234567]
         [--media https://example.com/photo.jpg --media-type image/jpeg] [--sid SM…] [--url http://localhost:3000]

Posts a Twilio messaging webhook, signed with the twilio package's own helper, to the running
Switchboard (npm start), then shows the conversation and its acknowledgement.`;

/** The webhook Twilio would send for one inbound SMS/MMS. */
function smsParams(options: {
  from: string;
  to: string;
  body: string;
  sid: string;
  accountSid: string;
  media: string[];
  mediaType: string;
}) {
  const params: Record<string, string> = {
    ToCountry: 'PL',
    SmsMessageSid: options.sid,
    NumMedia: String(options.media.length),
    SmsSid: options.sid,
    SmsStatus: 'received',
    Body: options.body,
    To: options.to,
    NumSegments: '1',
    MessageSid: options.sid,
    AccountSid: options.accountSid,
    From: options.from,
    FromCountry: 'PL',
    ApiVersion: '2010-04-01',
  };
  options.media.forEach((url, index) => {
    params[`MediaUrl${index}`] = url;
    params[`MediaContentType${index}`] = options.mediaType;
  });
  return params;
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      from: { type: 'string', default: '+48601234567' },
      to: { type: 'string', default: '+48221234567' },
      body: { type: 'string', default: 'Dzień dobry, mam pytanie o zamówienie.' },
      sid: { type: 'string' },
      media: { type: 'string', multiple: true, default: [] },
      'media-type': { type: 'string', default: 'image/jpeg' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals[0] !== 'sms') {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }

  const dataDir = resolve(process.env.SWITCHBOARD_DATA_DIR?.trim() || DEFAULT_DATA_DIR);
  const secrets = (await loadDevSecrets(dataDir, process.env)).values;
  const target = (values.url ?? `http://localhost:${process.env.PORT ?? 3000}`).replace(/\/+$/, '');
  const publicUrl = (process.env.PUBLIC_URL ?? target).replace(/\/+$/, '');
  const path = '/webhooks/twilio/messaging';
  const params = smsParams({
    from: values.from,
    to: values.to,
    body: values.body,
    sid: values.sid ?? `SM${randomBytes(16).toString('hex')}`,
    accountSid: secrets.TWILIO_ACCOUNT_SID,
    media: values.media,
    mediaType: values['media-type'],
  });
  const signature = getExpectedTwilioSignature(secrets.TWILIO_AUTH_TOKEN, `${publicUrl}${path}`, params);

  let response: Response;
  try {
    response = await fetch(`${target}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body: new URLSearchParams(params).toString(),
    });
  } catch {
    process.stderr.write(`Nothing answers at ${target}: start Switchboard first with npm start\n`);
    return 1;
  }
  process.stdout.write(
    `POST ${path} (MessageSid ${params.MessageSid}) -> ${response.status}\n${await response.text()}\n`,
  );
  if (!response.ok) return 1;
  return showConversation(target, secrets.AGENT_API_TOKEN, values.from);
}

type ApiConversation = {
  id: string;
  contact: { key: string };
  replyBy: string | null;
  ack: { state: string; reason?: string } | null;
};
type ApiMessage = { kind: string; direction: string; text: string };

/** Polls the agents' API until the acknowledgement has left (or 5 s have passed). */
async function showConversation(target: string, token: string, from: string): Promise<number> {
  const headers = { authorization: `Bearer ${token}` };
  const digits = from.replace(/[^\d]/g, '');
  for (let i = 0; i < 50; i++) {
    const list = (await (
      await fetch(`${target}/api/conversations?status=open&limit=100`, { headers })
    ).json()) as {
      items: ApiConversation[];
    };
    const conversation = list.items.find((item) => item.contact.key.replace(/[^\d]/g, '') === digits);
    if (conversation && conversation.ack?.state !== 'pending' && conversation.ack?.state !== 'sending') {
      const detail = (await (
        await fetch(`${target}/api/conversations/${conversation.id}`, { headers })
      ).json()) as {
        messages: ApiMessage[];
      };
      process.stdout.write(
        `conversation ${conversation.id}, reply by ${conversation.replyBy}, ack ${conversation.ack?.state}`,
      );
      process.stdout.write(conversation.ack?.reason ? ` (${conversation.ack.reason})\n` : '\n');
      for (const message of detail.messages)
        process.stdout.write(`  ${message.direction} ${message.kind}: ${message.text}\n`);
      return 0;
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  process.stdout.write('The message is stored; the acknowledgement has not left yet (see the server log).\n');
  return 0;
}

process.exitCode = await main();
