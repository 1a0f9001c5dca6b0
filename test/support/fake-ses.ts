import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESv2 } from '@aws-sdk/client-sesv2';

export type RecordedSend = {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The SendEmail request body as JSON. */
  body: Record<string, unknown>;
  /** Content.Raw.Data, base64-decoded: the MIME message exactly as SES would get it. */
  rawMime: string;
  /** The MessageId it was answered with (a bounce or complaint of it names it); absent on a failure. */
  messageId?: string;
};

/**
 * `drop`: read the request, then close the connection without an answer (a network error for
 * the client, after SES may have taken the mail). `hang`: read it and never answer (the
 * client's timeout ends it).
 */
export type FakeSesFailure = 'drop' | 'hang' | { status: number; type: string; message?: string };

export type FakeSes = {
  url: string;
  requests: RecordedSend[];
  /** The next `count` SendEmail calls get this answer instead of a MessageId. */
  failNext(count: number, failure: FakeSesFailure): void;
  /** The real AWS SDK (aggregated SESv2 client) pointed at the fake, without retries unless asked. */
  client(options?: { maxAttempts?: number }): SESv2;
  close(): Promise<void>;
};

const SEND_PATH = '/v2/email/outbound-emails';

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** A local stand-in for the SESv2 API (SendEmail only) on 127.0.0.1, recording every call. */
export async function startFakeSes(): Promise<FakeSes> {
  const requests: RecordedSend[] = [];
  const script: FakeSesFailure[] = [];

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const path = request.url ?? '/';
    if (request.method !== 'POST' || path !== SEND_PATH) {
      return sendJson(response, 404, { message: 'Not found' }, { 'x-amzn-errortype': 'NotFoundException' });
    }
    const body = JSON.parse(text || '{}') as { Content?: { Raw?: { Data?: string } } };
    const rawMime = Buffer.from(body.Content?.Raw?.Data ?? '', 'base64').toString('utf8');
    requests.push({ method: request.method, path, headers: request.headers, body, rawMime });
    const failure = script.shift();
    if (failure === 'drop') return request.socket.destroy();
    if (failure === 'hang') return;
    if (failure) {
      // REST-JSON errors: the type in x-amzn-ErrorType, the text in `message`.
      return sendJson(
        response,
        failure.status,
        { message: failure.message ?? failure.type },
        { 'x-amzn-errortype': failure.type, 'x-amzn-requestid': randomBytes(16).toString('hex') },
      );
    }
    const messageId = `0102019a${randomBytes(8).toString('hex')}-${randomBytes(4).toString('hex')}-000000`;
    const recorded = requests.at(-1);
    if (recorded) recorded.messageId = messageId;
    return sendJson(response, 200, { MessageId: messageId });
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    requests,
    failNext(count, failure) {
      for (let i = 0; i < count; i++) script.push(failure);
    },
    client(options = {}) {
      return new SESv2({
        endpoint: url,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIDFAKESES', secretAccessKey: 'fake-secret' },
        maxAttempts: options.maxAttempts ?? 1,
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
