import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readContext } from './context.ts';
import { SwitchboardStack } from './switchboard-stack.ts';

const app = new App();
const context = readContext(app.node);

new SwitchboardStack(app, `Switchboard-${context.stage}`, {
  ...context,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  terminationProtection: context.stage === 'prod',
  description: `Switchboard webhook router (${context.stage})`,
});

Tags.of(app).add('project', 'switchboard');
Tags.of(app).add('stage', context.stage);
// Fails the synth on any finding that is not acknowledged with a written reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
