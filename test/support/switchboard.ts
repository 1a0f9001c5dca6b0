import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalEventSink } from '#lib/adapters/local-event-sink.ts';
import { LocalMailStore } from '#lib/adapters/mail-store.ts';
import { OutboxSender } from '#lib/adapters/outbox-sender.ts';
import { type AppConfig, buildAppConfig } from '#lib/config/app-config.ts';
import { parseEnv } from '#lib/config/env.ts';
import { type BusinessConfig, DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import type { Conversation } from '#lib/domain/conversation.ts';
import { LocalEventFeed } from '#lib/local/event-feed.ts';
import { pollOnce } from '#lib/local/worker.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import { createRuntime, type Runtime } from '#lib/runtime/runtime.ts';
import { handleWorkRecord } from '#lib/runtime/work-records.ts';
import { type Backends, startBackends } from './backends.ts';
import { TestClock } from './clock.ts';
import { FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, type FakeTwilio } from './fake-twilio.ts';
import { signMeta, TEST_APP_SECRET } from './meta-factory.ts';
import { memoryLog } from './silent-log.ts';
import { signTwilio, type TwilioFixture, twilioForm } from './twilio-factory.ts';

export const TEST_META_VERIFY_TOKEN = 'meta-verify-token-for-tests';
export const TEST_META_APP_ID = '1234567890123456';

export const TEST_PUBLIC_URL = 'https://switchboard.example.com';
export const TEST_API_TOKEN = 'test-agent-token-0123456789';
const AUTH_TOKEN = '12345678901234567890123456789012';
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';

export type TestSwitchboard = {
  backends: Backends;
  runtime: Runtime;
  config: AppConfig;
  clock: TestClock;
  log: ReturnType<typeof memoryLog>;
  /** Posts a correctly signed Twilio messaging webhook built from a fixture + overrides. */
  postSms(overrides?: Record<string, string | string[] | undefined>): Promise<Response>;
  /** Posts a correctly signed Twilio webhook to /webhooks/twilio/<route>. */
  postTwilio(
    route: string,
    fixture: TwilioFixture,
    overrides?: Record<string, string | string[] | undefined>,
  ): Promise<Response>;
  /** Posts a correctly signed Meta webhook with this JSON body. */
  postMeta(body: unknown): Promise<Response>;
  /** Posts a Mailgun route form (sign it first: signMailgun). */
  postMailgun(form: URLSearchParams): Promise<Response>;
  /** Runs the ack worker until the queue is empty, then the stats feed; returns how many ack records succeeded. */
  drain(): Promise<number>;
  /** Counts the events delivered so far into the service-level stats (the stats feed). */
  feedStats(): Promise<number>;
  outbox(): Promise<Array<Record<string, string>>>;
  /** The events delivered to downstream tools so far (the local sink's events.jsonl). */
  events(): Promise<
    Array<{
      id: string;
      type: string;
      occurredAt: string;
      /** The event's place among its conversation's events: 1, 2, 3… */
      sequence?: number;
      conversationId: string;
      data: Record<string, unknown>;
    }>
  >;
  api(path: string): Promise<Response>;
  /** The one open conversation (throws unless there is exactly one). */
  onlyOpenConversation(): Promise<Conversation>;
  /**
   * An acting API call: POST /api<path> with a JSON body, the test token (or `token`) and a
   * fresh Idempotency-Key (or `key`; '' sends none).
   */
  act(path: string, body?: unknown, options?: { key?: string; token?: string }): Promise<Response>;
  /**
   * A new deployment with another business configuration over the same table, queue, clock,
   * outbox and event log (what a `cdk deploy` of an edited switchboard.config.json does to a
   * running stack), and with `env`, another environment too (a secret that lost a value).
   * Stopping either stops both.
   */
  redeploy(business: BusinessConfig, env?: Record<string, string>): TestSwitchboard;
  stop(): Promise<void>;
};

/**
 * The whole Switchboard runtime (the same createRuntime as Lambda and npm start) over the
 * embedded DynamoDB and SQS, a controllable clock, and the local outbox sender — or the
 * Twilio sender against a fake Twilio API when `twilioApiBaseUrl` is given.
 */
export async function startTestSwitchboard(
  options: {
    clock?: TestClock;
    twilioApiBaseUrl?: string;
    twilioAccountSid?: string;
    twilioAuthToken?: string;
    /** The fake Graph API's base URL (Meta senders then call it instead of the outbox). */
    graphBaseUrl?: string;
    business?: BusinessConfig;
    env?: Record<string, string>;
    /** Where the local event sink writes (default: events.jsonl in the test's data dir). */
    eventsPath?: string;
    /** What the runtime's outgoing fetch sees (SNS certificates, SNS subscription confirmations). */
    fetch?: typeof fetch;
    maxReceiveCount?: number;
    /** Where the business metrics go (default: nowhere), for tests of what the alarms see. */
    metrics?: Metrics;
  } = {},
): Promise<TestSwitchboard> {
  const backends = await startBackends({
    maxReceiveCount: options.maxReceiveCount ?? 5,
    visibilityTimeoutSeconds: 0,
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'switchboard-test-'));
  const clock = options.clock ?? new TestClock('2026-11-25T10:00:00+01:00');
  return assemble(backends, dataDir, clock, options);
}

function assemble(
  backends: Backends,
  dataDir: string,
  clock: TestClock,
  options: Parameters<typeof startTestSwitchboard>[0] & object,
): TestSwitchboard {
  const log = memoryLog();
  const authToken = options.twilioAuthToken ?? AUTH_TOKEN;
  const env = parseEnv({
    NODE_ENV: 'test',
    TWILIO_AUTH_TOKEN: authToken,
    TWILIO_ACCOUNT_SID: options.twilioAccountSid ?? ACCOUNT_SID,
    AGENT_API_TOKEN: TEST_API_TOKEN,
    PUBLIC_URL: TEST_PUBLIC_URL,
    TABLE_NAME: backends.tableName,
    ACK_QUEUE_URL: backends.queueUrl,
    SWITCHBOARD_DYNAMODB_ENDPOINT: backends.dynamoDbEndpoint,
    SWITCHBOARD_SQS_ENDPOINT: backends.sqsEndpoint,
    MAILGUN_SIGNING_KEY: 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0',
    META_APP_SECRET: TEST_APP_SECRET,
    META_VERIFY_TOKEN: TEST_META_VERIFY_TOKEN,
    META_APP_ID: TEST_META_APP_ID,
    META_PAGE_ACCESS_TOKEN: 'EAAfakePageToken0123456789abcdefZZ',
    INSTAGRAM_ACCESS_TOKEN: 'EAAfakeInstagramToken0123456789ZZ',
    WHATSAPP_ACCESS_TOKEN: 'EAAfakeWhatsAppToken0123456789abZZ',
    WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
    ...(options.graphBaseUrl ? { META_GRAPH_BASE_URL: options.graphBaseUrl } : {}),
    ...(options.twilioApiBaseUrl ? { TWILIO_API_BASE_URL: options.twilioApiBaseUrl } : {}),
    ...(options.twilioApiBaseUrl || options.graphBaseUrl ? { SWITCHBOARD_SENDER: 'provider' } : {}),
    ...options.env,
  });
  const built = buildAppConfig(env, options.business ?? DEFAULT_BUSINESS_CONFIG);
  const config: AppConfig = {
    ...built,
    ack: { ...built.ack, maxAttempts: options.maxReceiveCount ?? built.ack.maxAttempts },
  };
  const outboxPath = join(dataDir, 'outbox.jsonl');
  const eventsPath = options.eventsPath ?? join(dataDir, 'events.jsonl');
  const runtime = createRuntime({
    config,
    dynamodb: backends.dynamodb,
    sqs: backends.sqs,
    log,
    clock,
    mailStore: new LocalMailStore({ dir: join(dataDir, 'mail') }),
    eventSink: new LocalEventSink({ path: eventsPath }),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.twilioApiBaseUrl || options.graphBaseUrl
      ? {}
      : { outbox: new OutboxSender({ path: outboxPath, log }) }),
  });
  // The stats feed, as npm start runs it: events.jsonl read after the fact (AWS: rule + queue).
  const feed = new LocalEventFeed({
    eventsPath,
    offsetPath: join(dataDir, 'events.counted'),
    deps: runtime.statsDeps,
    log,
  });
  const worker = {
    sqs: backends.sqs,
    queueUrl: backends.queueUrl,
    handle: (record: { body: string; receiveCount: number; messageId: string }) =>
      handleWorkRecord(runtime.workDeps, record),
    log,
    waitSeconds: 0,
  };

  return {
    backends,
    runtime,
    config,
    clock,
    log,
    async postSms(overrides = {}) {
      const url = `${TEST_PUBLIC_URL}/webhooks/twilio/messaging`;
      const { body, headers } = signTwilio(url, twilioForm('sms-polish', overrides), authToken);
      return runtime.app.request('/webhooks/twilio/messaging', { method: 'POST', headers, body });
    },
    async postTwilio(route, fixture, overrides = {}) {
      const path = `/webhooks/twilio/${route}`;
      const { body, headers } = signTwilio(
        `${TEST_PUBLIC_URL}${path}`,
        twilioForm(fixture, overrides),
        authToken,
      );
      return runtime.app.request(path, { method: 'POST', headers, body });
    },
    async postMeta(payload) {
      const body = JSON.stringify(payload);
      return runtime.app.request('/webhooks/meta', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signMeta(body) },
        body,
      });
    },
    async postMailgun(form) {
      return runtime.app.request('/webhooks/email/mailgun', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
    },
    async drain() {
      let handled = 0;
      for (let round = 0; round < 200; round++) {
        const result = await pollOnce(worker);
        handled += result.handled;
        if (result.received === 0) break;
      }
      await feed.catchUp();
      return handled;
    },
    feedStats: () => feed.catchUp(),
    async events() {
      const text = await readFile(eventsPath, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    },
    async outbox() {
      const text = await readFile(outboxPath, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    },
    async api(path: string) {
      return runtime.app.request(path, { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });
    },
    async onlyOpenConversation() {
      const { items } = await runtime.store.listConversations({ status: 'open', limit: 10 });
      if (items.length !== 1) throw new Error(`expected one open conversation, found ${items.length}`);
      return items[0] as Conversation;
    },
    async act(path, body, options = {}) {
      const key = options.key ?? crypto.randomUUID();
      return runtime.app.request(`/api${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${options.token ?? TEST_API_TOKEN}`,
          'content-type': 'application/json',
          ...(key ? { 'idempotency-key': key } : {}),
        },
        body: body === undefined ? '' : JSON.stringify(body),
      });
    },
    redeploy: (business, env) =>
      assemble(backends, dataDir, clock, { ...options, business, env: { ...options.env, ...env } }),
    async stop() {
      await backends.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The test Switchboard sending through `twilio` (a fake Twilio API), with the fake's credentials. */
export async function startTestSwitchboardThroughTwilio(
  twilio: FakeTwilio,
  options: Parameters<typeof startTestSwitchboard>[0] = {},
): Promise<TestSwitchboard> {
  const sb = await startTestSwitchboard({
    twilioApiBaseUrl: twilio.url,
    twilioAccountSid: FAKE_ACCOUNT_SID,
    twilioAuthToken: FAKE_AUTH_TOKEN,
    ...options,
  });
  // Twilio stamps what it takes by the same (test) clock as ours: lookups compare the two.
  twilio.useClock(sb.clock);
  return sb;
}
