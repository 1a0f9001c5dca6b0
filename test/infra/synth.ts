import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { type Stage, SwitchboardStack, type SwitchboardStackProps } from '../../infra/switchboard-stack.ts';

// The feature flags `cdk synth` runs with, so the tests see the template that gets deployed.
export const cdkContext = (
  JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

// An empty list of stacks to bundle: NodejsFunction skips esbuild and stages a placeholder asset.
const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

/** Everything but the stage: what `-c key=value` would set. */
export type SynthOptions = Omit<SwitchboardStackProps, 'stage'>;

/** A full email setup, as docs/deploy.md deploys it. */
export const MAIL_OPTIONS = {
  mail: { domain: 'support.example.com', fromAddress: 'Anna Kowalska <anna@example.com>' },
  alertEmail: 'ops@example.com',
} as const satisfies SynthOptions;

/** Synthesizes one stage without running esbuild. */
export function synthStack(stage: Stage, options: SynthOptions = {}) {
  const app = new App({ context: { ...cdkContext, ...SKIP_BUNDLING } });
  const stack = new SwitchboardStack(app, `Switchboard-${stage}`, { stage, ...options });
  return { stack, template: Template.fromStack(stack) };
}

export interface NagViolation {
  readonly rule: string;
  readonly severity: string;
  readonly paths: string[];
}

export interface Acknowledgment {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/**
 * Runs the AWS Solutions pack over one stage. Synthesis reports violations instead of throwing,
 * so a failing test shows what was found.
 */
export function nagStack(
  stage: Stage,
  options: SynthOptions = {},
): { violations: NagViolation[]; acknowledgments: Acknowledgment[] } {
  const app = new App({
    context: { ...cdkContext, ...SKIP_BUNDLING, '@aws-cdk/core:failSynthOnValidationErrors': false },
  });
  const stack = new SwitchboardStack(app, `Switchboard-${stage}`, { stage, ...options });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();

  const report = JSON.parse(
    readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'),
  ) as {
    pluginReports: {
      pluginName: string;
      violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
    }[];
  };
  const violations = report.pluginReports.flatMap((plugin) =>
    plugin.violations.map((violation) => ({
      rule: `${plugin.pluginName}: ${violation.ruleName}`,
      severity: violation.severity,
      paths: violation.violatingConstructs.map((construct) => construct.constructPath),
    })),
  );
  return { violations, acknowledgments: acknowledgmentsIn(stack) };
}

function acknowledgmentsIn(root: IConstruct): Acknowledgment[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}

/** The logical id of the one resource of `type` whose id starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found [${ids.join(', ')}]`);
  return ids[0] as string;
}
