import { relative } from 'node:path';
import { ConfigError } from '#lib/config/env.ts';
import { DEFAULT_DATA_DIR } from './paths.ts';
import { startLocal } from './server.ts';

/** A value as a POSIX shell reads it back, quoted only when it has to be. */
function shellWord(value: string): string {
  return /^[\w./:@%+=,-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * What the CLIs (simulate, keys, report) need in the environment to reach this npm start: they
 * find its secrets by SWITCHBOARD_DATA_DIR and its URL by PORT, so a data dir or port other than
 * the defaults goes in front of the banner's commands (empty for the defaults).
 */
function cliEnvironment(dataDir: string, url: string): string {
  const port = new URL(url).port;
  return [
    ...(dataDir === DEFAULT_DATA_DIR ? [] : [`SWITCHBOARD_DATA_DIR=${shellWord(dataDir)}`]),
    ...(port === '3000' ? [] : [`PORT=${port}`]),
  ]
    .map((assignment) => `${assignment} `)
    .join('');
}

// `npm start`: Switchboard with everything embedded, ready in about a second.
const started = performance.now();
try {
  const local = await startLocal();
  const ms = Math.round(performance.now() - started);
  const secrets = local.devSecrets;
  const where = relative(process.cwd(), local.dataDir) || '.';
  const lines = [
    '',
    `Switchboard is listening on ${local.url} (ready in ${ms} ms)`,
    `  data dir       ${where}${local.embedded ? ' (embedded DynamoDB + SQS)' : ''}`,
    `  public URL     ${local.config.publicUrl} (Twilio signatures are checked against it)`,
    `  acks go to     ${local.config.sender === 'outbox' ? `${where}/outbox.jsonl` : 'the providers’ APIs'}`,
  ];
  // A business on Meta and email only (SWITCHBOARD_TWILIO=off): Twilio's webhooks are absent.
  const twilioUsed = !local.config.unusedChannels.includes('twilio');
  if (!twilioUsed) lines.push('  Twilio         not used (SWITCHBOARD_TWILIO=off)');
  if (local.config.inbox)
    lines.push(`  inbox          ${local.url}/inbox (paste AGENT_API_TOKEN as the key)`);
  if (local.devSnsTopicArn) {
    lines.push(
      `  SES mail       from the dev SNS topic ${local.devSnsTopicArn} (npm run simulate -- email-ses)`,
    );
  }
  if (secrets) {
    lines.push(
      `  dev secrets    ${relative(process.cwd(), secrets.path)}${secrets.generated.length ? ' (generated now)' : ''}`,
    );
    if (twilioUsed) {
      lines.push(`    TWILIO_ACCOUNT_SID=${secrets.values.TWILIO_ACCOUNT_SID}`);
      lines.push(`    TWILIO_AUTH_TOKEN=${secrets.values.TWILIO_AUTH_TOKEN}`);
    }
    lines.push(`    AGENT_API_TOKEN=${secrets.values.AGENT_API_TOKEN}`);
  }
  const cliEnv = cliEnvironment(local.dataDir, local.url);
  lines.push(
    '',
    ...(twilioUsed
      ? ['Send a test SMS:', `  ${cliEnv}npm run simulate -- sms --from +48601234567 --body "Dzień dobry"`]
      : ['Send a test Messenger message:', `  ${cliEnv}npm run simulate -- messenger --body "Dzień dobry"`]),
    ...(cliEnv ? [`  (npm run keys and npm run report need the same ${cliEnv.trim()})`] : []),
    'See the open conversations:',
    `  curl -s -H "Authorization: Bearer ${secrets?.values.AGENT_API_TOKEN ?? '$AGENT_API_TOKEN'}" ${local.url}/api/conversations`,
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);

  const shutdown = async () => {
    await local.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} catch (error) {
  if (error instanceof ConfigError || (error as { code?: string }).code === 'BUSINESS_CONFIG_INVALID') {
    process.stderr.write(`Switchboard cannot start: ${(error as Error).message}\n`);
  } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    process.stderr.write('Switchboard cannot start: the port is in use (set PORT to another one)\n');
  } else {
    process.stderr.write(`Switchboard cannot start: ${(error as Error).message}\n`);
  }
  process.exit(1);
}
