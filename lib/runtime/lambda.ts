import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgeEventSink } from '#lib/adapters/eventbridge-event-sink.ts';
import type { MailStore } from '#lib/adapters/mail-store.ts';
import type { SesEmailClient } from '#lib/channels/email/send-ses.ts';
import { type AppConfig, buildAppConfig } from '#lib/config/app-config.ts';
import { loadSecretsFromAws } from '#lib/config/aws-secrets.ts';
import { parseEnv } from '#lib/config/env.ts';
import { parseServableBusinessConfig } from '#lib/domain/promise.ts';
import type { Log } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import businessJson from '../../switchboard.config.json' with { type: 'json' };
import { createDynamoDbClient, createSqsClient } from './clients.ts';
import { createLog } from './log.ts';
import { createPowertoolsMetrics } from './metrics.ts';
import { createRuntime, type Runtime } from './runtime.ts';

/**
 * Builds the runtime once per Lambda cold start: environment set by CDK, provider secrets
 * from Secrets Manager, the business settings bundled from switchboard.config.json. A
 * missing or invalid value stops the cold start with a message naming it, and so do business
 * settings that cannot make a promise (as npm start and `cdk synth` refuse them). A missing or
 * weak AGENT_API_TOKEN does not: only the bootstrap token is refused (an error line and the
 * `BootstrapTokenRefused` metric), the webhooks and API keys work. Nor does a channel configured
 * by half: only it is switched off (an error line naming what is missing, `ChannelMisconfigured`).
 * A channel the deployment does not use (AppConfig.unusedChannels) is told in one info line.
 */
export async function loadLambdaRuntime(
  serviceName: string,
  options: {
    /** Each entry point brings only the mail clients it uses, so other bundles carry none. */
    mail?: (config: AppConfig) => { mailStore?: MailStore; emailClient?: SesEmailClient };
  } = {},
): Promise<Runtime & { log: ReturnType<typeof createLog>; reportConfigProblems: () => void }> {
  const log = createLog(serviceName);
  const secretArn = process.env.SWITCHBOARD_SECRETS_ARN;
  const secrets = secretArn ? await loadSecretsFromAws(secretArn) : {};
  const env = parseEnv({ ...process.env, ...secrets });
  const config = buildAppConfig(env, parseServableBusinessConfig(businessJson));
  const metrics = createPowertoolsMetrics();
  const reportConfigProblems = () => reportStandingProblems(config, log, metrics);
  reportConfigProblems();
  // Once, at the cold start: a choice, not a problem (no metric, so no alarm).
  for (const channel of config.unusedChannels) {
    log.info('channel not used in this deployment', {
      channel,
      webhooks: 'absent (404)',
      setting: 'SWITCHBOARD_TWILIO=off (-c twilio=off)',
    });
  }
  const runtime = createRuntime({
    config,
    dynamodb: createDynamoDbClient(config.aws),
    sqs: createSqsClient(config.aws),
    log,
    metrics,
    ...(config.eventBusName
      ? {
          eventSink: new EventBridgeEventSink({
            client: new EventBridgeClient({ region: config.aws.region }),
            busName: config.eventBusName,
          }),
        }
      : {}),
    ...options.mail?.(config),
  });
  return { ...runtime, log, reportConfigProblems };
}

/**
 * What a production function runs with but must not stay so, told at each cold start and, by
 * the sweeper, on every run: a condition that stands keeps its alarm in alarm (a count at cold
 * starts alone would clear it 5 minutes later, the problem still there), and the alarm clears
 * once functions with a fixed configuration run.
 */
function reportStandingProblems(config: AppConfig, log: Log, metrics: Metrics): void {
  if (config.agentApiTokenRefused) {
    // Not a reason to stop the cold start: the webhooks and API keys need no bootstrap token.
    log.error('bootstrap token refused; the API takes API keys only until it is replaced', {
      reason: config.agentApiTokenRefused,
    });
    metrics.count('BootstrapTokenRefused');
  }
  for (const off of config.misconfiguredChannels) {
    // Nor this: the other channels' webhooks and the API run; this channel's answer 503 (email's
    // and Twilio's without its SID stay up: their messages are recorded, not answered).
    const message =
      off.channel === 'email' || off.channel === 'twilio-sending'
        ? 'channel not answered: configured by half'
        : 'channel switched off: configured by half';
    log.error(message, {
      channel: off.channel,
      missing: off.missing,
      reason: off.reason,
    });
    metrics.count('ChannelMisconfigured');
  }
}
