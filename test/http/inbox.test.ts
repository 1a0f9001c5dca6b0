import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppConfig } from '#lib/config/app-config.ts';
import { parseEnv } from '#lib/config/env.ts';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

const SECRETS = {
  TWILIO_AUTH_TOKEN: 'token-value-never-shown',
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  AGENT_API_TOKEN: 'agent-token-value-0123456789abcdef',
};

const inboxOn = (env: Record<string, string>) =>
  buildAppConfig(parseEnv({ ...SECRETS, ...env }), DEFAULT_BUSINESS_CONFIG).inbox;

describe('GET /inbox', () => {
  let sb: TestSwitchboard;

  beforeAll(async () => {
    sb = await startTestSwitchboard();
  });
  afterAll(async () => {
    await sb.stop();
  });

  it('should serve the page, its scripts and uPlot from this origin under a strict CSP', async () => {
    // Act
    const page = await sb.runtime.app.request('/inbox');
    const script = await sb.runtime.app.request('/inbox/inbox.js');
    const reasons = await sb.runtime.app.request('/inbox/reasons.js');
    const uplot = await sb.runtime.app.request('/inbox/vendor/uplot.js');

    // Assess
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).not.toMatch(/https?:\/\//);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).not.toContain('innerHTML');
    expect(reasons.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await reasons.text()).not.toContain('innerHTML');
    expect(await uplot.text()).toContain('uPlot');
  });

  // Stop 26: inbox.js had grown to ~880 lines in one file; it is split into ES modules by job.
  it('should serve every module the page loads, as JavaScript under the same policy, none past 300 lines', async () => {
    // Prepare: the page's module scripts, then every module they import (relative paths only)
    const html = await (await sb.runtime.app.request('/inbox')).text();
    const pending = [...html.matchAll(/<script src="\/inbox\/([\w.-]+\.js)" type="module">/g)].map(
      (match) => match[1] as string,
    );
    const served = new Map<
      string,
      { status: number; type: string | null; csp: string | null; text: string }
    >();

    // Act
    while (pending.length > 0) {
      const name = pending.pop() as string;
      if (served.has(name)) continue;
      const response = await sb.runtime.app.request(`/inbox/${name}`);
      const text = await response.text();
      served.set(name, {
        status: response.status,
        type: response.headers.get('content-type'),
        csp: response.headers.get('content-security-policy'),
        text,
      });
      for (const match of text.matchAll(/^import (?:[^;]*? from )?'\.\/([\w.-]+\.js)';$/gm))
        pending.push(match[1] as string);
    }

    // Assess
    for (const [name, file] of served) {
      expect({ name, status: file.status, type: file.type }).toEqual({
        name,
        status: 200,
        type: 'text/javascript; charset=utf-8',
      });
      expect(file.csp).toContain("script-src 'self'");
      expect(file.text).not.toContain('innerHTML');
      expect(file.text).not.toMatch(/import\(|from 'https?:/);
      expect({ name, lines: file.text.split('\n').length }).toEqual({
        name,
        lines: expect.toSatisfy((lines: number) => lines <= 300),
      });
    }
    expect([...served.keys()].sort()).toEqual(
      expect.arrayContaining(['actions.js', 'inbox.js', 'reasons.js']),
    );
  });

  it('should be on by default locally, off by default in production, and follow SWITCHBOARD_INBOX', () => {
    // Act + Assess
    expect(inboxOn({})).toBe(true);
    expect(inboxOn({ NODE_ENV: 'production' })).toBe(false);
    expect(inboxOn({ NODE_ENV: 'production', SWITCHBOARD_INBOX: 'on' })).toBe(true);
    expect(inboxOn({ SWITCHBOARD_INBOX: 'off' })).toBe(false);
  });
});

describe('GET /inbox when switched off', () => {
  let sb: TestSwitchboard;

  beforeAll(async () => {
    sb = await startTestSwitchboard({ env: { SWITCHBOARD_INBOX: 'off' } });
  });
  afterAll(async () => {
    await sb.stop();
  });

  it('should answer 404 as for any unknown route', async () => {
    // Act
    const response = await sb.runtime.app.request('/inbox');

    // Assess
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});
