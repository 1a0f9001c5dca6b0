import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'vitest';
import { cdkContext } from './synth.ts';

const run = promisify(execFile);
const root = path.join(import.meta.dirname, '..', '..');

/** Runs infra/app.ts the way the CDK CLI does, without esbuild. */
async function synthApp(context: Record<string, unknown>) {
  const outdir = await mkdtemp(path.join(tmpdir(), 'switchboard-app-'));
  try {
    await run(process.execPath, ['infra/app.ts'], {
      cwd: root,
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ ...cdkContext, 'aws:cdk:bundling-stacks': [], ...context }),
      },
    });
    const manifest = JSON.parse(await readFile(path.join(outdir, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string; properties?: { terminationProtection?: boolean } }>;
    };
    return Object.entries(manifest.artifacts)
      .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
      .map(([name, artifact]) => ({
        name,
        terminationProtection: artifact.properties?.terminationProtection,
      }));
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

// Each case is a separate Node process; they share nothing, so run them side by side. Three
// synths at once on a busy 2-CPU machine take over 40 s: the infra project's 120 s, not 30.
describe.concurrent('infra/app.ts', { timeout: 120_000 }, () => {
  it('should synthesize one stack, Switchboard-dev, when no stage is given', async ({ expect }) => {
    await expect(synthApp({})).resolves.toEqual([{ name: 'Switchboard-dev', terminationProtection: false }]);
  });

  it('should synthesize Switchboard-prod with termination protection for -c stage=prod', async ({
    expect,
  }) => {
    await expect(synthApp({ stage: 'prod' })).resolves.toEqual([
      { name: 'Switchboard-prod', terminationProtection: true },
    ]);
  });

  it('should refuse an unknown stage', async ({ expect }) => {
    await expect(synthApp({ stage: 'staging' })).rejects.toThrow(/Unknown stage "staging"/);
  });

  it('should synthesize prod with email, alerts and a custom domain, with nothing left for cdk-nag', async ({
    expect,
  }) => {
    await expect(
      synthApp({
        stage: 'prod',
        mailDomain: 'support.example.com',
        sesFromAddress: 'Anna Kowalska <anna@example.com>',
        alertEmail: 'ops@example.com',
        domainName: 'hooks.example.com',
        certificateArn: 'arn:aws:acm:eu-central-1:123456789012:certificate/0a1b2c3d-1234',
        whatsappPhoneNumberId: '106540352242922',
      }),
    ).resolves.toEqual([{ name: 'Switchboard-prod', terminationProtection: true }]);
  });

  it('should refuse a public URL that is not https', async ({ expect }) => {
    await expect(synthApp({ publicUrl: 'http://hooks.example.com' })).rejects.toThrow(
      /publicUrl must be an https URL/,
    );
  });
});
