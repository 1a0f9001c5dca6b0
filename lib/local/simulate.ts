// npm run simulate: its command line, posting the signed webhooks and Twilio's status callbacks.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { existingDevSecrets, exitCodeFor, serverUrl, UsageError } from './cli-support.ts';
import { loadDevSnsIdentity } from './dev-sns.ts';
import { dataDirOf } from './paths.ts';
import { type SignedWebhook, twilioStatusParams, twilioWebhook } from './simulate-payloads.ts';
import { showConversationOf, showLatestConversation } from './simulate-show.ts';
import {
  CHANNELS,
  type Options,
  type SimulatedChannel,
  sharedKeyOf,
  webhooksFor,
} from './simulate-webhooks.ts';

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
  const secrets = (await existingDevSecrets(process.env)).values;
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
    if (!(await post(target, hook, dataDir))) return 1;
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
    if (!(await post(target, hook, dataDir))) return 1;
  }
  return showLatestConversation(target, secrets.AGENT_API_TOKEN);
}

/** Posts one signed webhook and prints the answer; false when it was not a 2xx. */
async function post(target: string, hook: SignedWebhook, dataDir: string): Promise<boolean> {
  let response: Response;
  try {
    response = await fetch(`${target}${hook.path}`, {
      method: 'POST',
      headers: hook.headers,
      body: hook.body,
    });
  } catch {
    process.stderr.write(
      `Nothing answers at ${target}: is Switchboard running (npm start)? Pass --url or set PORT, as its banner prints.\n`,
    );
    return false;
  }
  process.stdout.write(`POST ${hook.path} -> ${response.status}\n${await response.text()}\n`);
  if (response.status === 403) {
    // The usual cause: another npm start (another data dir) listens there, with its own secrets.
    process.stderr.write(
      `${target} refused the signature: it was signed with the dev secrets in ${dataDir}. Run simulate ` +
        'with the SWITCHBOARD_DATA_DIR (and PORT) of the npm start that listens there, as its banner ' +
        'prints them, and with the same PUBLIC_URL if it has one.\n',
    );
  }
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

process.exitCode = await main(process.argv.slice(2));
