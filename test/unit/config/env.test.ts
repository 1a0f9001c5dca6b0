import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildAppConfig } from '#lib/config/app-config.ts';
import { ConfigError, EnvSchema, parseEnv, requireSecrets } from '#lib/config/env.ts';
import { DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { serverUrl } from '#lib/local/cli-support.ts';
import { PROJECT_ROOT } from '#lib/local/paths.ts';

const SECRETS = {
  TWILIO_AUTH_TOKEN: 'token-value-never-shown',
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  AGENT_API_TOKEN: 'agent-token-value-0123456789abcdef',
};

describe('the environment', () => {
  it('should apply the documented defaults', () => {
    // Act
    const env = parseEnv({});

    // Assess
    expect(env).toMatchObject({
      PORT: 3000,
      TABLE_NAME: 'switchboard',
      TWILIO_API_BASE_URL: 'https://api.twilio.com',
    });
  });

  it('should name every missing secret and never print a value', () => {
    // Prepare
    const env = parseEnv({ NODE_ENV: 'production', TWILIO_AUTH_TOKEN: SECRETS.TWILIO_AUTH_TOKEN });

    // Act
    const attempt = () => requireSecrets(env);

    // Assess
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow('Missing required secrets: TWILIO_ACCOUNT_SID, AGENT_API_TOKEN');
    try {
      attempt();
    } catch (error) {
      expect((error as Error).message).not.toContain(SECRETS.TWILIO_AUTH_TOKEN);
    }
  });

  it('should reject a malformed value with its name', () => {
    // Act + Assess
    expect(() => parseEnv({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => parseEnv({ PUBLIC_URL: 'ftp://example.com' })).toThrow(/PUBLIC_URL/);
    expect(() => parseEnv({ SWITCHBOARD_SENDER: 'carrier-pigeon' })).toThrow(/SWITCHBOARD_SENDER/);
  });

  it('should treat blank values as missing', () => {
    // Act
    const env = parseEnv({ ...SECRETS, AGENT_API_TOKEN: '   ' });

    // Assess
    expect(() => requireSecrets(env)).toThrow('Missing required secret: AGENT_API_TOKEN');
  });

  // Found by a security review at stop 24: the API reads a bearer token as 1 to 512 visible
  // ASCII characters, so a token with a space (an operator's pass phrase) started Switchboard
  // with a bootstrap key every request got 401 for.
  it('should refuse at start-up an AGENT_API_TOKEN that can never be sent as a bearer token, naming it and never showing it', () => {
    // Prepare: a pass phrase, a non-ASCII token, one longer than a bearer token may be
    const tokens = ['correct horse battery staple', 'hasło-zażółć-gęślą-jaźń-0123456789', 'x'.repeat(513)];

    for (const token of tokens) {
      // Act
      const start = () =>
        buildAppConfig(parseEnv({ ...SECRETS, AGENT_API_TOKEN: token }), DEFAULT_BUSINESS_CONFIG);

      // Assess
      expect(start).toThrow(ConfigError);
      expect(start).toThrow(/AGENT_API_TOKEN/);
      expect(() => start()).toThrow(expect.objectContaining({ message: expect.not.stringContaining(token) }));
    }
  });

  // Stop 26: production refused to start with it, so the webhooks went down with the bootstrap
  // token (Twilio does not retry a 5xx); it now starts and refuses only that token.
  it('should refuse an AGENT_API_TOKEN shorter than 32 characters in production only, without stopping the start', () => {
    // Prepare
    const short = { ...SECRETS, AGENT_API_TOKEN: 'changeme' };
    const unsendable = { ...SECRETS, AGENT_API_TOKEN: 'correct horse battery staple' };

    // Act
    const production = buildAppConfig(
      parseEnv({ ...short, NODE_ENV: 'production' }),
      DEFAULT_BUSINESS_CONFIG,
    );
    const productionUnsendable = buildAppConfig(
      parseEnv({ ...unsendable, NODE_ENV: 'production' }),
      DEFAULT_BUSINESS_CONFIG,
    );
    const local = buildAppConfig(parseEnv(short), DEFAULT_BUSINESS_CONFIG);

    // Assess
    expect(production.agentApiTokenRefused).toBe(
      'AGENT_API_TOKEN is too short for production: at least 32 characters (the stack generates 48)',
    );
    expect(productionUnsendable.agentApiTokenRefused).toMatch(
      /AGENT_API_TOKEN must be 1 to 512 visible ASCII/,
    );
    expect(local.agentApiToken).toBe('changeme');
    expect(local.agentApiTokenRefused).toBeNull();
  });

  // Found by a review of the developer's experience at stop 23.
  it('should listen where the CLIs look when PORT is set but empty (PORT= in a .env), not on a random port', () => {
    // Act: what npm start listens on, and where npm run keys / report send their requests
    const env = { PORT: '' };
    const listensOn = parseEnv(env).PORT;
    const cliPort = Number(new URL(serverUrl(undefined, env)).port);

    // Assess: the README's default is 3000 and `0` alone means any free port
    expect(listensOn).toBe(cliPort);
    expect(listensOn).toBe(3000);
    expect(parseEnv({ PORT: '0' }).PORT).toBe(0);
    const blank = parseEnv({ NOTICE_LEAD_MINUTES: ' ', PUBLIC_URL: '' });
    expect(blank.NOTICE_LEAD_MINUTES).toBe(30);
    expect(blank.PUBLIC_URL).toBeUndefined();
  });

  it('should strip the trailing slash of PUBLIC_URL and pick the sender by mode', () => {
    // Act
    const local = buildAppConfig(
      parseEnv({ ...SECRETS, PUBLIC_URL: 'https://hooks.example.com/prod/' }),
      DEFAULT_BUSINESS_CONFIG,
    );
    const production = buildAppConfig(
      parseEnv({ ...SECRETS, NODE_ENV: 'production' }),
      DEFAULT_BUSINESS_CONFIG,
    );

    // Assess
    expect(local.publicUrl).toBe('https://hooks.example.com/prod');
    expect(local.sender).toBe('outbox');
    expect(production.sender).toBe('provider');
    expect(production.publicUrl).toBe('http://localhost:3000');
  });

  // Found by a review of the first hour at stop 31: the table lacked five variables the code reads
  // (META_GRAPH_BASE_URL, SWITCHBOARD_S3_ENDPOINT, MAIL_RECHECK_QUEUE_URL, MAIL_RECOVERY_AFTER_MINUTES,
  // AWS_REGION) and the one the ack worker reads itself (STATS_QUEUE_ARN).
  it("should have every variable it reads in the README's configuration table", () => {
    // Prepare: the table's first column, between "## Configuration" and the next paragraph
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'));
    const table = section.slice(section.indexOf('\n|'), section.indexOf('\n\n', section.indexOf('\n|')));
    const documented = new Set(
      table
        .split('\n')
        .flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1])),
    );

    // Act: what parseEnv reads, and the ack worker's own variable (functions/ack-worker.ts)
    const read = [...Object.keys(EnvSchema.shape), 'STATS_QUEUE_ARN'];

    // Assess
    expect(read.filter((name) => !documented.has(name))).toEqual([]);
  });
});
