import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { loadBusinessConfigFile } from '#lib/config/business-file.ts';
import type { BusinessConfig, Person } from '#lib/domain/business-config.ts';
import { parseLocal } from '#lib/domain/calendar-cache.ts';
import { CHANNELS, type Channel, LOCALES, type Locale } from '#lib/domain/channel.ts';
import { chooseLocale, detectLocale } from '#lib/domain/locale.ts';
import { computePromise, noticeSchedule, type ReplyPromise } from '#lib/domain/promise.ts';
import { smsSegments } from '#lib/domain/sms.ts';
import { composeAck, composeNotice } from '#lib/domain/texts/index.ts';
import { exitCodeFor, UsageError } from './cli-support.ts';
import { PROJECT_ROOT } from './paths.ts';

const USAGE = `Usage: npm run promise -- [--at <time>] --channel <${CHANNELS.join('|')}> [options]

  --at <time>       when the message arrives: 2026-12-23T16:40 is local time in the config's
                    time zone (a time that happens twice, when clocks go back, is the first);
                    an offset (Z, +01:00) makes it absolute (default: now)
  --channel <name>  the channel it arrives on
  --locale <pl|en>  the language the contact last wrote in (a --text that says otherwise wins)
  --text <message>  the customer's message, to show which language it is detected as
  --name <name>     the contact's name, as the provider gives it
  --config <path>   the business config (default: $SWITCHBOARD_CONFIG, else switchboard.config.json)

Prints the reply-by promise, the acknowledgement exactly as sent, and the late notice that
would go out 30 minutes of working time before the promise if nobody had answered by then.`;

// The production lead is NOTICE_LEAD_MINUTES (30 by default); the preview shows that default.
const NOTICE_LEAD_MINUTES = 30;
const AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

type Options = {
  at: string | undefined;
  channel: Channel;
  locale: Locale | undefined;
  text: string | undefined;
  name: string | undefined;
  config: string;
};

function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options | 'help' {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const { channel, locale } = values;
  if (channel === undefined) throw new UsageError('--channel is required');
  if (!isOneOf(CHANNELS, channel))
    throw new UsageError(`--channel "${channel}" is not one of ${CHANNELS.join(', ')}`);
  if (locale !== undefined && !isOneOf(LOCALES, locale)) {
    throw new UsageError(`--locale "${locale}" is not one of ${LOCALES.join(', ')}`);
  }
  if (values.at !== undefined && !(AT.test(values.at) && DateTime.fromISO(values.at).isValid)) {
    throw new UsageError(
      `--at "${values.at}" is not a date-time like 2026-12-23T16:40 or 2026-12-23T16:40+01:00`,
    );
  }
  return {
    at: values.at,
    channel,
    locale,
    text: values.text,
    name: values.name,
    config: values.config ?? env.SWITCHBOARD_CONFIG ?? resolve(PROJECT_ROOT, 'switchboard.config.json'),
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      at: { type: 'string' },
      channel: { type: 'string' },
      locale: { type: 'string' },
      text: { type: 'string' },
      name: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

function when(iso: string | Date, timeZone: string): string {
  const at =
    typeof iso === 'string'
      ? DateTime.fromISO(iso, { setZone: true }).setZone(timeZone)
      : DateTime.fromJSDate(iso, { zone: timeZone });
  return `${at.toFormat('ccc d LLL yyyy, HH:mm', { locale: 'en' })} (${at.toISO({ suppressMilliseconds: true })})`;
}

function signerLine(person: Person): string {
  return [`${person.name} (${person.id})`, person.phone && `tel. ${person.phone}`, person.email]
    .filter(Boolean)
    .join(', ');
}

function messageLines(
  label: string,
  channel: Channel,
  sms: boolean,
  message: { text: string; subject: string | null },
): string[] {
  const billing = sms ? smsSegments(message.text) : null;
  const meta = billing
    ? `${channel}, ${billing.segments} SMS segment${billing.segments === 1 ? '' : 's'}, ${billing.encoding}, ${billing.units} units`
    : channel;
  return [
    `${label.padEnd(12)}${meta}`,
    ...(message.subject === null ? [] : [`${'Subject'.padEnd(12)}${message.subject}`]),
    ...message.text.split('\n').map((line) => `    ${line}`),
  ];
}

function promiseLines(promise: ReplyPromise, timeZone: string): string[] {
  return [
    `${'Reply by'.padEnd(12)}${when(promise.replyBy, timeZone)}`,
    `${'Target'.padEnd(12)}${promise.targetHours} working hours${promise.capped ? ', capped' : ', not capped'}`,
    `${'Team away'.padEnd(12)}${promise.teamAwayUntil === null ? 'no' : `until ${when(promise.teamAwayUntil, timeZone)}`}`,
    `${'Signer'.padEnd(12)}${signerLine(promise.signer)}`,
  ];
}

function preview(config: BusinessConfig, options: Options, now: Date): string[] {
  const { timeZone } = config;
  const { channel } = options;
  const receivedAt = options.at === undefined ? now : parseLocal(options.at, timeZone).toJSDate();
  const promise = computePromise(config, { receivedAt, channel });
  const supported = LOCALES;
  const detected =
    options.text === undefined
      ? null
      : detectLocale(options.text, { supported, fallback: config.defaultLocale });
  const locale = chooseLocale({
    detected: detected ?? { locale: config.defaultLocale, confident: false },
    contactLocale: options.locale,
    defaultLocale: config.defaultLocale,
    supported,
  });
  const why = detected?.confident
    ? 'detected from --text'
    : options.locale !== undefined
      ? "the contact's language, --locale"
      : 'the business default';

  // As the ack worker does: a caller hears the promise in the greeting and gets the texts by SMS.
  const sent: Channel = channel === 'voice' ? 'sms' : channel;
  const callBack = channel === 'voice';
  const sms = sent === 'sms' || sent === 'mms';
  const ack = composeAck(config, {
    locale,
    channel: sent,
    now: receivedAt,
    promise,
    contactName: options.name ?? null,
    callBack,
  });
  const noticeDue = noticeSchedule(
    config,
    NOTICE_LEAD_MINUTES * 60_000,
  )({ replyBy: promise.replyBy, since: receivedAt.toISOString(), teamAwayUntil: promise.teamAwayUntil });

  return [
    `${'Received'.padEnd(12)}${when(receivedAt, timeZone)} on ${channel}, ${timeZone}`,
    ...promiseLines(promise, timeZone),
    ...(detected === null
      ? []
      : [
          `${'Detected'.padEnd(12)}${detected.confident ? `${detected.locale} (confident)` : `nothing certain (fallback ${detected.locale})`} in ${JSON.stringify(options.text)}`,
        ]),
    `${'Locale'.padEnd(12)}${locale}, ${why}`,
    ...messageLines('Ack', sent, sms, ack),
    '',
    ...noticeLines(config, { channel, sent, sms, locale, name: options.name, callBack }, promise, noticeDue),
  ];
}

/** The late notice the sweeper would send if nobody answered, or why there is none. */
function noticeLines(
  config: BusinessConfig,
  how: {
    channel: Channel;
    sent: Channel;
    sms: boolean;
    locale: Locale;
    name: string | undefined;
    callBack: boolean;
  },
  promise: ReplyPromise,
  noticeDue: string | null,
): string[] {
  const { timeZone } = config;
  if (noticeDue === null) {
    return [
      `${'Notice'.padEnd(12)}none: the promise leaves no ${NOTICE_LEAD_MINUTES} min of working time before it after the team's first ${NOTICE_LEAD_MINUTES}`,
    ];
  }
  const noticeAt = new Date(noticeDue);
  const newPromise = computePromise(config, { receivedAt: noticeAt, channel: how.channel });
  const notice = composeNotice(config, {
    locale: how.locale,
    channel: how.sent,
    now: noticeAt,
    promise: newPromise,
    originalReplyBy: promise.replyBy,
    contactName: how.name ?? null,
    callBack: how.callBack,
  });
  return [
    `${'Notice at'.padEnd(12)}${when(noticeAt, timeZone)}, ${NOTICE_LEAD_MINUTES} min of working time before the promise`,
    ...promiseLines(newPromise, timeZone).map((line) => `  ${line}`),
    ...messageLines('Notice', how.sent, how.sms, notice),
  ];
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    const options = parseOptions(argv, env);
    if (options === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const config = await loadBusinessConfigFile(options.config);
    process.stdout.write(`${preview(config, options, new Date()).join('\n')}\n`);
    return 0;
  } catch (error) {
    // A calendar with no working time for this --at: its message, not a stack.
    return exitCodeFor(error, USAGE);
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
