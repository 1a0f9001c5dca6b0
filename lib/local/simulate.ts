import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exitCodeFor, serverUrl, UsageError } from './cli-support.ts';
import { loadDevSecrets } from './dev-secrets.ts';
import { type DevSnsIdentity, loadDevSnsIdentity } from './dev-sns.ts';
import { DEV_WHATSAPP_PHONE_NUMBER_ID, dataDirOf } from './paths.ts';
import { mailgunWebhook, sesWebhook } from './simulate-email-payloads.ts';
import {
  metaMessagingPayload,
  metaWebhook,
  type SignedWebhook,
  twilioCallParams,
  twilioMessageParams,
  twilioSid,
  twilioStatusParams,
  twilioWebhook,
  whatsappCloudPayload,
} from './simulate-payloads.ts';

const CHANNELS = [
  'sms',
  'whatsapp',
  'voice',
  'voicemail',
  'messenger',
  'instagram',
  'wa-cloud',
  'email-mailgun',
  'email-ses',
] as const;
type SimulatedChannel = (typeof CHANNELS)[number];

const STATUSES = ['queued', 'sent', 'delivered', 'read', 'undelivered', 'failed'] as const;
/** Twilio's "Unreachable destination handset". */
const DEFAULT_ERROR_CODE = '30003';

const USAGE = `Usage: npm run simulate -- <${CHANNELS.join('|')}> [options]

  --from <address>   the customer (+48601234567, a PSID/IGSID, or an email address)
  --to <address>     our number / page / address
  --body <text>      the message (voicemail: its transcription)
  --name <name>      the customer's profile name (WhatsApp)
  --media <url>      an MMS attachment (repeatable), with --media-type
  --url <base>       where Switchboard runs (default http://localhost:$PORT or 3000)

Posts a correctly signed provider webhook (Twilio's own signing helper, Meta's and Mailgun's
HMACs, with the dev secrets npm start generated; for email-ses an SNS notification signed with
the dev SNS key in the data dir) to the running Switchboard, then shows the conversation and
its acknowledgement. With TWILIO_WEBHOOK_SHARED_KEY set, Twilio's webhooks are signed with it the
way a Webhook Rule's Setting does (HMAC_SHA256 and the X-Twilio-Webhooks-Signature-Settings header).

       npm run simulate -- status [--status <${STATUSES.join('|')}>] [--sid <SM…>] [--error <code>]

Posts Twilio's delivery status callback for the newest Twilio send in the outbox (or the send
--sid names; default status delivered, error code ${DEFAULT_ERROR_CODE} for undelivered and failed),
then shows that customer's conversation: an undelivered acknowledgement shows as failed.`;

type Options = {
  from: string | undefined;
  to: string | undefined;
  body: string | undefined;
  name: string;
  media: string[];
  mediaType: string;
};

type Secrets = Awaited<ReturnType<typeof loadDevSecrets>>['values'];
type Signing = { secrets: Secrets; sns: DevSnsIdentity | null };

const DEFAULT_CUSTOMER_MAIL = 'Ewa Kowalska <ewa.kowalska@example.net>';
const DEFAULT_OUR_MAIL = 'kontakt@example.com';
const DEFAULT_MAIL_TEXT = 'Dzień dobry,\n\nkiedy wyślecie moje zamówienie?\n\nEwa';

/** The signed webhooks one simulated contact produces, in order. */
function webhooksFor(
  channel: SimulatedChannel,
  o: Options,
  { secrets, sns }: Signing,
  publicUrl: string,
): SignedWebhook[] {
  const twilio = { authToken: secrets.TWILIO_AUTH_TOKEN, publicUrl, sharedKey: sharedKeyOf(process.env) };
  const accountSid = secrets.TWILIO_ACCOUNT_SID;
  const phone = o.from ?? '+48601234567';
  const ours = o.to ?? '+48221234567';
  switch (channel) {
    case 'sms':
      return [
        twilioWebhook(
          '/webhooks/twilio/messaging',
          twilioMessageParams({
            from: phone,
            to: ours,
            body: o.body ?? 'Dzień dobry, mam pytanie o zamówienie.',
            accountSid,
            media: o.media,
            mediaType: o.mediaType,
          }),
          twilio,
        ),
      ];
    case 'whatsapp':
      return [
        twilioWebhook(
          '/webhooks/twilio/messaging',
          twilioMessageParams({
            from: `whatsapp:${phone}`,
            to: `whatsapp:${ours}`,
            body: o.body ?? 'Dzień dobry!',
            accountSid,
            profileName: o.name,
          }),
          twilio,
        ),
      ];
    case 'voice':
    case 'voicemail': {
      const call = twilioCallParams({ from: phone, to: ours, accountSid, callSid: twilioSid('CA') });
      const hooks = [twilioWebhook('/webhooks/twilio/voice', call.call, twilio)];
      if (channel === 'voicemail') {
        hooks.push(twilioWebhook('/webhooks/twilio/voice/recording', call.recording, twilio));
        hooks.push(
          twilioWebhook(
            '/webhooks/twilio/voice/transcription',
            call.transcription(o.body ?? 'Proszę o telefon w sprawie zamówienia.'),
            twilio,
          ),
        );
      }
      return hooks;
    }
    case 'messenger':
    case 'instagram':
      return [
        metaWebhook(
          metaMessagingPayload(channel === 'messenger' ? 'page' : 'instagram', {
            from: o.from ?? '7214568801234567',
            to: o.to ?? '104857600123456',
            text: o.body ?? 'Dzień dobry, czy paczka już wyszła?',
          }),
          secrets.META_APP_SECRET,
        ),
      ];
    case 'wa-cloud':
      return [
        metaWebhook(
          whatsappCloudPayload({
            from: phone,
            to: ours,
            text: o.body ?? 'Dzień dobry!',
            name: o.name,
            phoneNumberId: process.env.WHATSAPP_PHONE_NUMBER_ID?.trim() || DEV_WHATSAPP_PHONE_NUMBER_ID,
          }),
          secrets.META_APP_SECRET,
        ),
      ];
    case 'email-mailgun':
      return [
        mailgunWebhook(
          {
            from: o.from?.includes('@') ? o.from : DEFAULT_CUSTOMER_MAIL,
            to: o.to?.includes('@') ? o.to : DEFAULT_OUR_MAIL,
            subject: 'Pytanie o zamówienie 4471',
            text: o.body ?? DEFAULT_MAIL_TEXT,
          },
          secrets.MAILGUN_SIGNING_KEY,
        ),
      ];
    case 'email-ses':
      if (!sns) throw new Error('email-ses needs the dev SNS identity');
      return [
        sesWebhook(
          {
            from: o.from?.includes('@') ? o.from : DEFAULT_CUSTOMER_MAIL,
            to: o.to?.includes('@') ? o.to : DEFAULT_OUR_MAIL,
            subject: 'Pytanie o zamówienie 4471 – kiedy będzie wysyłka?',
            text: o.body ?? DEFAULT_MAIL_TEXT,
          },
          sns,
        ),
      ];
  }
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        body: { type: 'string' },
        name: { type: 'string', default: 'Ewa Kowalska' },
        media: { type: 'string', multiple: true, default: [] },
        'media-type': { type: 'string', default: 'image/jpeg' },
        url: { type: 'string' },
        sid: { type: 'string' },
        status: { type: 'string', default: 'delivered' },
        error: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // A mistyped option (--frm): the usage, not parseArgs' stack.
    throw new UsageError((error as Error).message);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    return await simulate(argv);
  } catch (error) {
    return exitCodeFor(error, USAGE);
  }
}

async function simulate(argv: readonly string[]): Promise<number> {
  const { positionals, values } = parse(argv);
  const channel = positionals[0] as SimulatedChannel | 'status' | undefined;
  const knownStatus = (STATUSES as readonly string[]).includes(values.status);
  if (values.help || !channel || !(channel === 'status' ? knownStatus : CHANNELS.includes(channel))) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }

  const dataDir = dataDirOf(process.env);
  const secrets = (await loadDevSecrets(dataDir, process.env)).values;
  const target = serverUrl(values.url, process.env);
  const publicUrl = (process.env.PUBLIC_URL?.trim() || target).replace(/\/+$/, '');
  if (channel === 'status') {
    const sent = await twilioSend(dataDir, values.sid);
    if (!sent) {
      process.stderr.write(
        values.sid
          ? `No Twilio send ${values.sid} in ${join(dataDir, 'outbox.jsonl')}\n`
          : `No Twilio send in ${join(dataDir, 'outbox.jsonl')} yet: simulate an sms first\n`,
      );
      return 1;
    }
    const failure = values.status === 'undelivered' || values.status === 'failed';
    const params = twilioStatusParams({
      messageSid: sent.providerMessageId,
      status: values.status,
      from: sent.from,
      to: sent.to,
      accountSid: secrets.TWILIO_ACCOUNT_SID,
      ...(failure ? { errorCode: values.error ?? DEFAULT_ERROR_CODE } : {}),
    });
    const hook = twilioWebhook('/webhooks/twilio/status', params, {
      authToken: secrets.TWILIO_AUTH_TOKEN,
      publicUrl,
      sharedKey: sharedKeyOf(process.env),
    });
    if (!(await post(target, hook))) return 1;
    return showConversationOf(target, secrets.AGENT_API_TOKEN, `phone:${sent.to.replace(/^whatsapp:/, '')}`);
  }
  const options: Options = {
    from: values.from,
    to: values.to,
    body: values.body,
    name: values.name,
    media: values.media,
    mediaType: values['media-type'],
  };

  const sns = channel === 'email-ses' ? await loadDevSnsIdentity(dataDir) : null;
  for (const hook of webhooksFor(channel, options, { secrets, sns }, publicUrl)) {
    if (!(await post(target, hook))) return 1;
  }
  return showLatestConversation(target, secrets.AGENT_API_TOKEN);
}

/** Posts one signed webhook and prints the answer; false when it was not a 2xx. */
async function post(target: string, hook: SignedWebhook): Promise<boolean> {
  let response: Response;
  try {
    response = await fetch(`${target}${hook.path}`, {
      method: 'POST',
      headers: hook.headers,
      body: hook.body,
    });
  } catch {
    process.stderr.write(`Nothing answers at ${target}: start Switchboard first with npm start\n`);
    return false;
  }
  process.stdout.write(`POST ${hook.path} -> ${response.status}\n${await response.text()}\n`);
  return response.ok;
}

type OutboxEntry = { provider?: string; providerMessageId?: string; from?: string; to?: string };

/** The newest Twilio send in the outbox (or the one with `sid`), as npm start wrote it. */
async function twilioSend(
  dataDir: string,
  sid: string | undefined,
): Promise<{ providerMessageId: string; from: string; to: string } | null> {
  const text = await readFile(join(dataDir, 'outbox.jsonl'), 'utf8').catch(() => '');
  const entries = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as OutboxEntry);
  const found = entries.findLast(
    (entry) =>
      entry.provider === 'twilio' &&
      typeof entry.providerMessageId === 'string' &&
      (sid === undefined || entry.providerMessageId === sid),
  );
  if (!found?.providerMessageId) return null;
  return { providerMessageId: found.providerMessageId, from: found.from ?? '', to: found.to ?? '' };
}

type ApiConversation = {
  id: string;
  contact: { key: string };
  replyBy: string | null;
  ack: { state: string; reason?: string } | null;
};
type ApiMessage = {
  kind: string;
  direction: string;
  channel: string;
  text: string;
  delivery?: { status: string };
};

/** Polls the agents' API until the newest conversation's acknowledgement settled (at most 5 s). */
async function showLatestConversation(target: string, token: string): Promise<number> {
  const headers = { authorization: `Bearer ${token}` };
  for (let i = 0; i < 50; i++) {
    const list = (await (
      await fetch(`${target}/api/conversations?status=open&limit=1`, { headers })
    ).json()) as {
      items: ApiConversation[];
    };
    const conversation = list.items[0];
    if (conversation && conversation.ack?.state !== 'pending' && conversation.ack?.state !== 'sending') {
      return show(target, headers, conversation);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  process.stdout.write('Stored; the acknowledgement has not left yet (see the server log).\n');
  return 0;
}

/** Shows the newest conversation of one contact (GET /api/contacts?key=…). */
async function showConversationOf(target: string, token: string, contactKey: string): Promise<number> {
  const headers = { authorization: `Bearer ${token}` };
  const query = new URLSearchParams({ key: contactKey });
  const response = await fetch(`${target}/api/contacts?${query}`, { headers });
  const conversation = response.ok
    ? ((await response.json()) as { conversations: ApiConversation[] }).conversations[0]
    : undefined;
  if (!conversation) {
    process.stdout.write(`No conversation of ${contactKey} to show.\n`);
    return 0;
  }
  return show(target, headers, conversation);
}

async function show(
  target: string,
  headers: Record<string, string>,
  conversation: ApiConversation,
): Promise<number> {
  const detail = (await (
    await fetch(`${target}/api/conversations/${conversation.id}`, { headers })
  ).json()) as {
    messages: ApiMessage[];
  };
  process.stdout.write(
    `\nconversation ${conversation.id} (${conversation.contact.key}), reply by ${conversation.replyBy}, ack ${conversation.ack?.state}${conversation.ack?.reason ? ` (${conversation.ack.reason})` : ''}\n`,
  );
  for (const message of detail.messages) {
    const delivery = message.delivery ? ` [${message.delivery.status}]` : '';
    process.stdout.write(
      `  ${message.direction} ${message.kind} (${message.channel})${delivery}: ${message.text.replace(/\n/g, '\n    ')}\n`,
    );
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));

/** The shared key npm start checks Twilio's Settings header with (from the environment, as it reads it). */
function sharedKeyOf(env: NodeJS.ProcessEnv): string | undefined {
  return env.TWILIO_WEBHOOK_SHARED_KEY?.trim() || undefined;
}
