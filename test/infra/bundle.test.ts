import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Embedded, startEmbedded } from '#lib/local/embedded.ts';
import { ensureQueues, ensureTable } from '#lib/local/provision.ts';
import { signTwilio, TEST_AUTH_TOKEN, twilioForm } from '#test/support/twilio-factory.ts';
import { type BundleReport, buildFunction, FUNCTION_NAMES } from '../../infra/build.ts';
import type { FunctionName } from '../../infra/bundling.ts';
import { SwitchboardStack } from '../../infra/switchboard-stack.ts';
import { cdkContext } from './synth.ts';

const run = promisify(execFile);
const root = path.join(import.meta.dirname, '..', '..');
// The devDependency `node` (24, like the Lambda runtime), whatever Node runs the tests.
const localNode = path.join(root, 'node_modules', '.bin', 'node');
const NODE = existsSync(localNode) ? localNode : process.execPath;

const PUBLIC_URL = 'https://hooks.switchboard.example';
const AGENT_API_TOKEN = 'bundle-test-agent-token-0123456789abcdef';

/**
 * The AWS SDK clients each function may carry: the services its role may call (see
 * switchboard-stack.test.ts). A client outside this list is dead weight that tree shaking should
 * have dropped, or a call that will fail on AWS for want of a grant.
 */
const ALLOWED_SDK_CLIENTS: Record<FunctionName, string[]> = {
  // s3: mail intake and attachments; sesv2: agents' email replies through the API.
  http: ['dynamodb', 'sqs', 'secrets-manager', 'eventbridge', 's3', 'sesv2'],
  'ack-worker': ['dynamodb', 'sqs', 'secrets-manager', 'eventbridge', 'sesv2'],
  sweeper: ['dynamodb', 'sqs', 'secrets-manager', 'eventbridge', 's3'],
};

/**
 * Clients a function carries but never calls, because lib/runtime wires one runtime for all
 * three functions (each client is only created when its env var is set, so nothing fails at run
 * time, but each adds weight and cold-start import time). Reported to the lib team; shrink this
 * list as the wiring splits per function, never grow it.
 */
const KNOWN_UNUSED_SDK_CLIENTS: Record<FunctionName, string[]> = {
  http: [],
  'ack-worker': [],
  sweeper: [],
};

// Imports the built bundle as Lambda does (a file URL, ESM) and runs its handler on each event.
const RUNNER = `
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
const [bundle, eventsFile, resultsFile] = process.argv.slice(2);
const { handler } = await import(pathToFileURL(bundle).href);
const context = {
  awsRequestId: 'bundle-test', functionName: 'switchboard-http', invokedFunctionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:switchboard-http',
  getRemainingTimeInMillis: () => 10_000, callbackWaitsForEmptyEventLoop: true,
};
const results = [];
for (const event of JSON.parse(await readFile(eventsFile, 'utf8'))) results.push(await handler(event, context));
// Not stdout: the function logs there, as on Lambda.
await writeFile(resultsFile, JSON.stringify({ node: process.versions.node, results }));
`;

function apiGatewayEvent(
  method: string,
  rawPath: string,
  options: { headers?: Headers; body?: string; base64?: boolean } = {},
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { host: 'abc123.execute-api.eu-central-1.amazonaws.com' };
  for (const [name, value] of options.headers ?? []) headers[name] = value;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-central-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '54.172.60.1',
        userAgent: headers['user-agent'] ?? 'curl/8',
      },
      requestId: `req-${rawPath}`,
      routeKey: '$default',
      stage: '$default',
      time: '01/Dec/2026:10:00:00 +0000',
      timeEpoch: Date.UTC(2026, 11, 1, 10),
    },
    isBase64Encoded: options.base64 ?? false,
    ...(options.body === undefined
      ? {}
      : { body: options.base64 ? Buffer.from(options.body).toString('base64') : options.body }),
  };
}

/** A correctly signed Twilio SMS webhook, as API Gateway hands it to the function. */
function signedSms(base64: boolean): APIGatewayProxyEventV2 {
  const rawPath = '/webhooks/twilio/messaging';
  const { body, headers } = signTwilio(`${PUBLIC_URL}${rawPath}`, twilioForm('sms-polish'), TEST_AUTH_TOKEN);
  return apiGatewayEvent('POST', rawPath, { headers, body, base64 });
}

describe('the built Lambda bundles', () => {
  let outdir: string;
  const builds = new Map<FunctionName, Promise<BundleReport & { metafile: Metafile }>>();

  /** Builds a function once (each on its own: one broken entry point fails only its tests). */
  function built(name: FunctionName) {
    let build = builds.get(name);
    if (!build) {
      build = buildFunction(name, outdir).then(async (report) => ({
        ...report,
        metafile: JSON.parse(await readFile(path.join(outdir, name, 'index.meta.json'), 'utf8')) as Metafile,
      }));
      builds.set(name, build);
    }
    return build;
  }

  beforeAll(async () => {
    outdir = await mkdtemp(path.join(tmpdir(), 'switchboard-bundle-'));
  });

  afterAll(async () => {
    await rm(outdir, { recursive: true, force: true });
  });

  it('should build byte for byte the bundles cdk synth deploys', async () => {
    // Prepare
    const constructIds: Record<FunctionName, string> = {
      http: 'Http',
      'ack-worker': 'AckWorker',
      sweeper: 'Sweeper',
    };
    const app = new App({ context: cdkContext, outdir: path.join(outdir, 'cdk.out') });
    const stack = new SwitchboardStack(app, 'Switchboard-dev', { stage: 'dev' });
    const template = Template.fromStack(stack);
    const assembly = app.synth();

    for (const name of FUNCTION_NAMES) {
      // Act
      const [fn] = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) =>
        id.startsWith(`${constructIds[name]}Function`),
      );
      const assetHash = String(fn?.[1].Properties.Code.S3Key ?? 'missing').replace(/\.zip$/, '');
      const deployed = await readFile(path.join(assembly.directory, `asset.${assetHash}`, 'index.mjs'));

      // Assess
      expect(deployed.equals(await readFile((await built(name)).file)), name).toBe(true);
    }
  }, 60_000);

  it.each(FUNCTION_NAMES)('should keep only the SDK clients %s may call', async (name) => {
    // Act
    const { sdkClients } = await built(name);
    const clients = sdkClients.map((client) => client.replace('@aws-sdk/client-', ''));

    // Assess
    expect(clients.length).toBeGreaterThan(0);
    const unexpected = clients.filter((client) => !ALLOWED_SDK_CLIENTS[name].includes(client));
    expect(unexpected.filter((client) => !KNOWN_UNUSED_SDK_CLIENTS[name].includes(client))).toEqual([]);
  });

  it.each(FUNCTION_NAMES)('should carry the holiday table in %s, not the holiday library', async (name) => {
    // Act
    const inputs = Object.values((await built(name)).metafile.outputs).flatMap((output) =>
      Object.keys(output.inputs),
    );

    // Assess: date-holidays brings its rule parser, moment-timezone and an astronomy package (1.4 MB)
    expect(
      inputs.filter((input) =>
        /node_modules\/(date-holidays|moment|moment-timezone|astronomia)\//.test(input),
      ),
    ).toEqual([]);
    expect(inputs).toContain('lib/domain/holidays.generated.json');
  });

  it.each(FUNCTION_NAMES)(
    'should leave %s nothing to import at run time but Node built-ins',
    async (name) => {
      // Prepare
      const builtins = new Set([...builtinModules, ...builtinModules.map((module) => `node:${module}`)]);

      // Act
      const outputs = Object.values((await built(name)).metafile.outputs);
      const external = outputs.flatMap((output) =>
        output.imports.filter((i) => i.external).map((i) => i.path),
      );

      // Assess
      // dynalite, fauxqs and @hono/node-server are marked external: an import of one would fail the cold start.
      expect(outputs.length).toBeGreaterThan(0);
      expect([...new Set(external)].filter((module) => !builtins.has(module))).toEqual([]);
    },
  );

  describe('http, imported in a child Node process against the embedded DynamoDB and SQS', () => {
    let embedded: Embedded;
    let env: Record<string, string>;

    beforeAll(async () => {
      embedded = await startEmbedded({});
      const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
      const region = 'eu-central-1';
      const dynamodb = new DynamoDBClient({ region, endpoint: embedded.dynamoDbEndpoint, credentials });
      const sqs = new SQSClient({ region, endpoint: embedded.sqsEndpoint, credentials });
      await ensureTable(dynamodb, 'switchboard-bundle');
      const { queueUrl } = await ensureQueues(sqs, 'switchboard-bundle-acks', {
        maxReceiveCount: 5,
        visibilityTimeoutSeconds: 180,
      });
      dynamodb.destroy();
      sqs.destroy();
      // Only what Lambda would set, pointed at the emulators: nothing from this process leaks in.
      env = {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        NODE_OPTIONS: '--enable-source-maps',
        AWS_REGION: region,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_EC2_METADATA_DISABLED: 'true',
        POWERTOOLS_SERVICE_NAME: 'switchboard-test',
        POWERTOOLS_METRICS_NAMESPACE: 'Switchboard',
        TABLE_NAME: 'switchboard-bundle',
        ACK_QUEUE_URL: queueUrl,
        SWITCHBOARD_DYNAMODB_ENDPOINT: embedded.dynamoDbEndpoint,
        SWITCHBOARD_SQS_ENDPOINT: embedded.sqsEndpoint,
        TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
        TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
        AGENT_API_TOKEN,
        PUBLIC_URL,
      };
    }, 60_000);

    afterAll(async () => {
      await embedded?.stop();
    });

    let invocations = 0;
    async function invoke(
      events: unknown[],
      fn: FunctionName = 'http',
      extraEnv: Record<string, string> = {},
    ) {
      const id = ++invocations;
      const [runner, eventsFile, resultsFile] = ['runner.mjs', `events-${id}.json`, `results-${id}.json`].map(
        (file) => path.join(outdir, file),
      ) as [string, string, string];
      await writeFile(eventsFile, JSON.stringify(events));
      await writeFile(runner, RUNNER);
      const bundle = (await built(fn)).file;
      await run(NODE, [runner, bundle, eventsFile, resultsFile], {
        cwd: outdir,
        env: { ...env, ...extraEnv },
        timeout: 60_000,
      });
      return JSON.parse(await readFile(resultsFile, 'utf8')) as {
        node: string;
        results: APIGatewayProxyStructuredResultV2[];
      };
    }

    it('should answer /healthz, store signed Twilio SMS (plain and base64 bodies) with empty TwiML, and list them', async () => {
      // Prepare
      const events = [
        apiGatewayEvent('GET', '/healthz'),
        signedSms(false),
        signedSms(true),
        apiGatewayEvent('GET', '/api/conversations', {
          headers: new Headers({ authorization: `Bearer ${AGENT_API_TOKEN}` }),
        }),
      ];

      // Act
      const { node, results } = await invoke(events);
      const [health, sms, smsBase64, conversations] = results;

      // Assess
      expect(node.split('.')[0]).toBe('24');
      expect(health?.statusCode).toBe(200);
      expect(JSON.parse(health?.body ?? '')).toEqual({ ok: true });
      for (const twiml of [sms, smsBase64]) {
        expect(twiml?.statusCode).toBe(200);
        expect(twiml?.headers?.['content-type']).toMatch(/^text\/xml/);
        expect(twiml?.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
      }
      expect(conversations?.statusCode).toBe(200);
      expect((JSON.parse(conversations?.body ?? '') as { items: unknown[] }).items.length).toBeGreaterThan(0);
    });

    // The inbox page's files (lib/http/inbox/, ES modules read from disk when mounted) are not in
    // the bundle: production leaves the page off, so the built function answers its paths 404.
    it('should answer the inbox page and its modules 404 in production, as any unknown path', async () => {
      // Act
      const { results } = await invoke([
        apiGatewayEvent('GET', '/inbox'),
        apiGatewayEvent('GET', '/inbox/inbox.js'),
        apiGatewayEvent('GET', '/inbox/api.js'),
      ]);

      // Assess
      expect(results.map((result) => result.statusCode)).toEqual([404, 404, 404]);
    });

    it('should count a stats-queue batch in the built ack worker once, however often it is delivered', async () => {
      // Prepare: two events as the EventBridge rule puts them on the stats queue
      const statsQueueArn = 'arn:aws:sqs:eu-central-1:123456789012:switchboard-dev-stats';
      const at = '2026-11-24T10:00:00.000Z';
      const events = [
        { type: 'conversation.opened', data: { channel: 'sms', contactKey: 'phone:+48609999999' } },
        { type: 'message.received', data: { messageId: 'msg_bundle', channel: 'sms', kind: 'message' } },
      ].map(({ type, data }, i) => ({
        id: `evt_bundle_${i}`,
        type,
        occurredAt: at,
        conversationId: 'conv_bundle',
        data,
      }));
      const batch = {
        Records: events.map((event, i) => ({
          messageId: `m${i}`,
          receiptHandle: `r${i}`,
          body: JSON.stringify({
            version: '0',
            'detail-type': event.type,
            source: 'switchboard',
            detail: event,
          }),
          attributes: { ApproximateReceiveCount: '1' },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: statsQueueArn,
          awsRegion: 'eu-central-1',
        })),
      };
      const report = apiGatewayEvent('GET', '/api/service-level', {
        headers: new Headers({ authorization: `Bearer ${AGENT_API_TOKEN}` }),
      });
      report.rawQueryString = 'from=2026-11-24&to=2026-11-24';
      report.queryStringParameters = { from: '2026-11-24', to: '2026-11-24' };

      // Act
      const worker = await invoke([batch, batch], 'ack-worker', { STATS_QUEUE_ARN: statsQueueArn });
      const { results } = await invoke([report]);

      // Assess
      expect(worker.results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
      expect(results[0]?.statusCode).toBe(200);
      const { totals } = JSON.parse(results[0]?.body ?? '{}') as {
        totals: { conversations: number; messages: number };
      };
      expect(totals).toMatchObject({ conversations: 1, messages: 1 });
    });

    it('should refuse a Twilio webhook signed for another URL with 403', async () => {
      // Prepare
      const rawPath = '/webhooks/twilio/messaging';
      const { body, headers } = signTwilio(`https://elsewhere.example${rawPath}`, twilioForm('sms-polish'));

      // Act
      const { results } = await invoke([apiGatewayEvent('POST', rawPath, { headers, body })]);

      // Assess
      expect(results[0]?.statusCode).toBe(403);
    });
  });
});
