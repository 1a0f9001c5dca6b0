import { buildAppConfig } from '#lib/config/app-config.ts';
import { loadSecretsFromAws } from '#lib/config/aws-secrets.ts';
import { parseEnv } from '#lib/config/env.ts';
import { parseBusinessConfig } from '#lib/domain/business-config.ts';
import businessJson from '../../switchboard.config.json' with { type: 'json' };
import { createDynamoDbClient, createMailStore, createSqsClient } from './clients.ts';
import { createLog } from './log.ts';
import { createRuntime, type Runtime } from './runtime.ts';

/**
 * Builds the runtime once per Lambda cold start: environment set by CDK, provider secrets
 * from Secrets Manager, the business settings bundled from switchboard.config.json. A
 * missing or invalid value stops the cold start with a message naming it.
 */
export async function loadLambdaRuntime(
  serviceName: string,
  options: { requireQueue?: boolean } = {},
): Promise<Runtime & { log: ReturnType<typeof createLog> }> {
  const log = createLog(serviceName);
  const secretArn = process.env.SWITCHBOARD_SECRETS_ARN;
  const secrets = secretArn ? await loadSecretsFromAws(secretArn) : {};
  const env = parseEnv({ ...process.env, ...secrets });
  const config = buildAppConfig(env, parseBusinessConfig(businessJson));
  const runtime = createRuntime({
    config,
    dynamodb: createDynamoDbClient(config.aws),
    sqs: createSqsClient(config.aws),
    log,
    requireQueue: options.requireQueue ?? true,
    mailStore: createMailStore(config),
  });
  return { ...runtime, log };
}
