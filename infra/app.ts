import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { STAGES, type Stage, SwitchboardStack } from './switchboard-stack.ts';

const app = new App();

const stage: unknown = app.node.tryGetContext('stage') ?? 'dev';
if (!STAGES.includes(stage as Stage)) {
  throw new Error(`Unknown stage "${String(stage)}": pass -c stage=${STAGES.join('|')}`);
}

new SwitchboardStack(app, `Switchboard-${stage}`, {
  stage: stage as Stage,
  publicUrl: parsePublicUrl(app.node.tryGetContext('publicUrl')),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  terminationProtection: stage === 'prod',
  description: `Switchboard webhook router (${stage})`,
});

Tags.of(app).add('project', 'switchboard');
Tags.of(app).add('stage', String(stage));
// Fails the synth on any finding that is not acknowledged with a written reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

/** `-c publicUrl=https://hooks.example.com` when a custom domain fronts the API. */
function parsePublicUrl(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol !== 'https:' || url.search || url.hash) {
    throw new Error(`publicUrl must be an https URL without query or fragment, got "${String(value)}"`);
  }
  return url.href.replace(/\/+$/, '');
}
