import { relative } from 'node:path';
import { ConfigError } from '#lib/config/env.ts';
import { startLocal } from './server.ts';

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
  lines.push(
    '',
    ...(twilioUsed
      ? ['Send a test SMS:', '  npm run simulate -- sms --from +48601234567 --body "Dzień dobry"']
      : ['Send a test Messenger message:', '  npm run simulate -- messenger --body "Dzień dobry"']),
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
