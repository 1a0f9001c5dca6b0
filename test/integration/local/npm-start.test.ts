import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedProcess, startNpmStart } from '#test/support/npm-start-process.ts';
import { signTwilio, twilioForm } from '#test/support/twilio-factory.ts';

async function outboxLines(dataDir: string): Promise<string[]> {
  const text = await readFile(join(dataDir, 'outbox.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean);
}

async function until<T>(probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('npm start', () => {
  let dataDir: string;
  let running: StartedProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'switchboard-start-'));
  });
  afterAll(async () => {
    running?.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('should record a signed SMS, send one ack to the outbox, and keep both across kill -9', async () => {
    // Prepare
    running = await startNpmStart(dataDir);
    const secrets = JSON.parse(await readFile(join(dataDir, 'dev-secrets.json'), 'utf8'));
    const path = '/webhooks/twilio/messaging';
    const form = twilioForm('sms-polish', { From: '+48601234567', Body: 'Dzień dobry' });
    const { body, headers } = signTwilio(`${running.url}${path}`, form, secrets.TWILIO_AUTH_TOKEN);
    expect(running.output()).toContain('npm run simulate -- sms');
    expect(running.output()).toContain(secrets.AGENT_API_TOKEN);

    // Act
    const sentAt = performance.now();
    const response = await fetch(`${running.url}${path}`, { method: 'POST', headers, body });
    const [ack] = await until(async () => {
      const lines = await outboxLines(dataDir);
      return lines.length > 0 ? lines : undefined;
    });
    const firstAckMs = performance.now() - sentAt;
    // Killed once the ack is marked sent (killing between the provider's answer and that
    // write is the documented double-send window, see docs/store.md).
    const url = running.url;
    await until(async () => {
      const list = await fetch(`${url}/api/conversations`, {
        headers: { authorization: `Bearer ${secrets.AGENT_API_TOKEN}` },
      });
      const body = (await list.json()) as { items: Array<{ ack: { state: string } }> };
      return body.items[0]?.ack.state === 'sent' ? true : undefined;
    });
    running.child.kill('SIGKILL');
    await new Promise((resolve) => running?.child.once('exit', resolve));
    running = await startNpmStart(dataDir);
    const list = await fetch(`${running.url}/api/conversations`, {
      headers: { authorization: `Bearer ${secrets.AGENT_API_TOKEN}` },
    });
    const { items } = (await list.json()) as {
      items: Array<{ contact: { key: string }; ack: { state: string } }>;
    };
    const retry = await fetch(`${running.url}${path}`, {
      method: 'POST',
      headers: signTwilio(`${running.url}${path}`, form, secrets.TWILIO_AUTH_TOKEN).headers,
      body,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    // Assess
    expect(response.status).toBe(200);
    expect(JSON.parse(ack as string)).toMatchObject({ channel: 'sms', to: '+48601234567' });
    expect(firstAckMs).toBeLessThan(5_000);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ contact: { key: 'phone:+48601234567' }, ack: { state: 'sent' } });
    expect(retry.status).toBe(200);
    expect(await outboxLines(dataDir)).toHaveLength(1);
  });
});
