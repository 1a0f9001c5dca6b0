import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IG_ACCOUNT_ID, PAGE_ID, whatsappEnvelope } from './meta-factory.ts';

/** Tokens the fake accepts unless told otherwise; not real ones. */
export const FAKE_PAGE_TOKEN = 'EAAfakePageToken0123456789abcdefZZ';
export const FAKE_INSTAGRAM_TOKEN = 'EAAfakeInstagramToken0123456789ZZ';
export const FAKE_WHATSAPP_TOKEN = 'EAAfakeWhatsAppToken0123456789abZZ';
export const FAKE_PHONE_NUMBER_ID = '106540352242922';

export type RecordedGraphRequest = {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or undefined when it was not JSON. */
  body: unknown;
};

/** `hang`: accept the request and never answer (for timeouts). */
export type FakeGraphFailure =
  | 'hang'
  | {
      status: number;
      code?: number;
      subcode?: number;
      message?: string;
      retryAfter?: string;
      transient?: boolean;
      /** A gateway's own page (HTML, no Graph error): an edge in front of the Graph API answered. */
      gateway?: boolean;
      /**
       * Meta took the message (the customer gets it, `taken` lists it, its echo or statuses can
       * be delivered) and only its answer was lost: this failure came back instead.
       */
      taken?: boolean;
    };

/** A message the fake took: where it went and what the request said. */
export type TakenSend = {
  /** Meta's id of it: Messenger / Instagram `message_id`, WhatsApp `wamid`. */
  id: string;
  channel: 'messenger' | 'instagram' | 'whatsapp';
  body: Record<string, unknown>;
};

/** Graph answers of the failures the senders must tell apart. */
export const GRAPH_FAILURES = {
  outsideWindow: {
    status: 400,
    code: 10,
    subcode: 2018278,
    message: '(#10) This message is sent outside of allowed window.',
  },
  instagramOutsideWindow: {
    status: 400,
    code: 10,
    subcode: 2534022,
    message: '(#10) This message is sent outside of allowed window.',
  },
  unavailable: {
    status: 400,
    code: 551,
    subcode: 1545041,
    message: "This person isn't available right now.",
  },
  reengagement: { status: 400, code: 131047, message: 'Re-engagement message' },
  undeliverable: { status: 400, code: 131026, message: 'Message Undeliverable.' },
  throughput: { status: 429, code: 130429, message: '(#130429) Rate limit hit' },
  spamLimit: { status: 400, code: 131048, message: 'Spam rate limit hit' },
  pairLimit: {
    status: 400,
    code: 131056,
    message: '(Business Account, Consumer Account) pair rate limit hit',
  },
  serverError: {
    status: 500,
    code: 2,
    message: 'An unexpected error has occurred. Please retry your request later.',
  },
} as const satisfies Record<string, FakeGraphFailure>;

/** An approved WhatsApp message template the fake knows: its name, language code and body parameter count. */
export type FakeTemplate = { name: string; language: string; parameters: number };

export type FakeMeta = {
  /** Base URL to pass as graphBaseUrl. */
  url: string;
  requests: RecordedGraphRequest[];
  /** The next `count` send requests get this answer instead of a success. */
  failNext(count: number, failure: FakeGraphFailure): void;
  /**
   * The WhatsApp user (wa_id, digits) wrote at `at`: a free-form message to them more than 24
   * hours later is refused (131047), as the Cloud API does; a template still goes. A user the
   * fake was never told about has an open window.
   */
  customerWrote(waId: string, at: Date): void;
  /** The clock the window is measured by (the test's); the real time until then. */
  useClock(clock: { now(): Date }): void;
  /** WhatsApp Manager approves this template (replacing one of the same name and language). */
  approve(template: FakeTemplate): void;
  /** Every message the fake took, answered or not, in order. */
  taken: TakenSend[];
  /**
   * Called (and awaited) when a message is taken whose answer is then lost, before the lost
   * answer goes back: a webhook Meta delivers while our request is still waiting.
   */
  onLostAnswer?: (send: TakenSend) => Promise<void>;
  /**
   * The webhook Meta sends about a message it took: Messenger's and Instagram's echo (with the
   * `metadata` the send set, and `appId` on Messenger), WhatsApp's status (with the
   * `biz_opaque_callback_data` the send set).
   */
  webhookOf(
    send: TakenSend,
    options?: {
      appId?: string;
      status?: 'sent' | 'delivered' | 'read' | 'failed';
      at?: Date;
      /** A `failed` status's `errors[0].code` (WhatsApp). */
      errorCode?: number;
    },
  ): Record<string, unknown>;
  close(): Promise<void>;
};

type SendBody = {
  // Messenger: `{ id }`; WhatsApp: a business-scoped user id, in place of `to`.
  recipient?: { id?: unknown } | string;
  message?: { text?: unknown };
  messaging_product?: unknown;
  to?: unknown;
  type?: unknown;
  template?: {
    name?: unknown;
    language?: { code?: unknown };
    components?: Array<{ type?: unknown; parameters?: Array<{ type?: unknown; text?: unknown }> }>;
  };
};

const WINDOW_MS = 24 * 60 * 60_000;

/**
 * The Cloud API's refusal of a template send, or null when it would take it: an unknown name or
 * language (132001), a body parameter count other than the template's (132000), a parameter
 * with a newline, a tab or more than 4 consecutive spaces (132018).
 */
function templateRefusal(
  body: SendBody,
  templates: readonly FakeTemplate[],
): { code: number; message: string } | null {
  const template = body.template;
  const known = templates.find((t) => t.name === template?.name && t.language === template?.language?.code);
  if (!known) {
    return { code: 132001, message: '(#132001) Template name does not exist in the translation' };
  }
  const parameters = (template?.components ?? [])
    .filter((component) => component.type === 'body')
    .flatMap((component) => component.parameters ?? []);
  if (parameters.length !== known.parameters) {
    return {
      code: 132000,
      message: `(#132000) Number of parameters does not match the expected number of params`,
    };
  }
  if (
    parameters.some((p) => p.type !== 'text' || typeof p.text !== 'string' || /[\n\t]| {5,}/.test(p.text))
  ) {
    return {
      code: 132018,
      message: '(#132018) Param text cannot have new-line/tab characters or more than 4 consecutive spaces',
    };
  }
  return null;
}

const MESSENGER_PATH = /^\/v\d+\.\d+\/me\/messages$/;
const WHATSAPP_PATH = /^\/v\d+\.\d+\/(\d+)\/messages$/;

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  response.end(JSON.stringify(body));
}

// Graph's error shape.
function graphError(code: number, message: string, subcode?: number, transient = false) {
  return {
    error: {
      message,
      type: code === 190 ? 'OAuthException' : 'GraphMethodException',
      code,
      ...(subcode === undefined ? {} : { error_subcode: subcode }),
      is_transient: transient,
      fbtrace_id: `A${randomBytes(9).toString('base64url')}`,
    },
  };
}

function tokenOf(request: IncomingMessage, query: Record<string, string>): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length);
  return query.access_token;
}

/** A local stand-in for the Graph API's send endpoints on 127.0.0.1, recording every request. */
export async function startFakeMeta(
  options: {
    pageToken?: string;
    instagramToken?: string;
    whatsappToken?: string;
    phoneNumberId?: string;
    /** More numbers of the WhatsApp Business Account (the same token sends from each). */
    phoneNumberIds?: string[];
    /** More Page (Instagram account) tokens the Send API takes, each with its channel. */
    tokens?: Record<string, 'messenger' | 'instagram'>;
    /** The approved templates (none unless given: any template send is then 132001). */
    templates?: FakeTemplate[];
  } = {},
): Promise<FakeMeta> {
  const templates = [...(options.templates ?? [])];
  let clock: { now(): Date } = { now: () => new Date() };
  // wa_id → when the user last wrote.
  const lastInbound = new Map<string, number>();
  // Token → the channel its Page (Instagram account) sends on.
  const messengerTokens = new Map<string, 'messenger' | 'instagram'>([
    [options.pageToken ?? FAKE_PAGE_TOKEN, 'messenger'],
    [options.instagramToken ?? FAKE_INSTAGRAM_TOKEN, 'instagram'],
    ...Object.entries(options.tokens ?? {}),
  ]);
  const whatsappToken = options.whatsappToken ?? FAKE_WHATSAPP_TOKEN;
  const phoneNumberIds = new Set([
    options.phoneNumberId ?? FAKE_PHONE_NUMBER_ID,
    ...(options.phoneNumberIds ?? []),
  ]);
  const requests: RecordedGraphRequest[] = [];
  const script: FakeGraphFailure[] = [];
  const taken: TakenSend[] = [];

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      body = undefined;
    }
    requests.push({
      method: request.method ?? '',
      path: url.pathname,
      query,
      headers: request.headers,
      body,
    });

    const whatsapp = WHATSAPP_PATH.exec(url.pathname);
    const messenger = MESSENGER_PATH.test(url.pathname);
    if (request.method !== 'POST' || (!messenger && !phoneNumberIds.has(whatsapp?.[1] ?? ''))) {
      return sendJson(response, 400, graphError(100, 'Unsupported post request.', 33));
    }
    const token = tokenOf(request, query);
    if (!token || !(messenger ? messengerTokens.has(token) : token === whatsappToken)) {
      return sendJson(
        response,
        401,
        graphError(190, 'Invalid OAuth access token - Cannot parse access token'),
        {
          'www-authenticate': 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token"',
        },
      );
    }
    const next = script.shift();
    // Taken, its answer lost: handled as a success up to the answer.
    const lost = next !== undefined && next !== 'hang' && next.taken ? next : undefined;
    const failure = lost ? undefined : next;
    if (failure === 'hang') return; // the client's timeout ends it; close() drops the socket
    const take = async (send: TakenSend, answer: unknown) => {
      taken.push(send);
      if (!lost) return sendJson(response, 200, answer);
      await fake.onLostAnswer?.(send);
      if (lost.gateway) {
        response.writeHead(lost.status, { 'content-type': 'text/html' });
        response.end(`<html><body><h1>${lost.status}</h1></body></html>`);
        return;
      }
      return sendJson(response, lost.status, graphError(lost.code ?? 2, lost.message ?? 'Error'));
    };
    if (failure?.gateway) {
      response.writeHead(failure.status, { 'content-type': 'text/html' });
      response.end(`<html><body><h1>${failure.status}</h1></body></html>`);
      return;
    }
    if (failure) {
      const headers: Record<string, string> = failure.retryAfter ? { 'retry-after': failure.retryAfter } : {};
      const code = failure.code ?? (failure.status === 429 ? 4 : 2);
      const error = graphError(code, failure.message ?? 'Error', failure.subcode, failure.transient);
      return sendJson(response, failure.status, error, headers);
    }
    const message = body as SendBody | undefined;
    if (messenger) {
      const recipient = typeof message?.recipient === 'object' ? message.recipient : undefined;
      if (typeof recipient?.id !== 'string' || typeof message?.message?.text !== 'string') {
        return sendJson(response, 400, graphError(100, '(#100) The parameter recipient is required'));
      }
      const id = `m_${randomBytes(48).toString('base64url')}`;
      const channel = messengerTokens.get(token) ?? 'messenger';
      return take(
        { id, channel, body: message as Record<string, unknown> },
        { recipient_id: recipient.id, message_id: id },
      );
    }
    // The Cloud API takes the number as `to` or a business-scoped user id as `recipient`.
    const to = typeof message?.to === 'string' ? message.to : undefined;
    const bsuid = typeof message?.recipient === 'string' ? message.recipient : undefined;
    if (message?.messaging_product !== 'whatsapp' || (to === undefined) === (bsuid === undefined)) {
      return sendJson(response, 400, graphError(100, '(#100) The parameter messaging_product is required.'));
    }
    if (message.type === 'template') {
      const refusal = templateRefusal(message, templates);
      if (refusal) return sendJson(response, 400, graphError(refusal.code, refusal.message));
    } else {
      const wrote = lastInbound.get(to ?? bsuid ?? '');
      if (wrote !== undefined && clock.now().getTime() - wrote > WINDOW_MS) {
        return sendJson(response, 400, graphError(131047, 'Re-engagement message'));
      }
    }
    const id = `wamid.${randomBytes(30).toString('base64')}`;
    return take(
      { id, channel: 'whatsapp', body: message as Record<string, unknown> },
      {
        messaging_product: 'whatsapp',
        contacts: [to === undefined ? { input: bsuid, user_id: bsuid } : { input: to, wa_id: to }],
        messages: [{ id }],
      },
    );
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: FakeMeta = {
    url: `http://127.0.0.1:${port}`,
    requests,
    taken,
    webhookOf(send, { appId, status = 'sent', at = clock.now(), errorCode } = {}) {
      const body = send.body as {
        recipient?: { id?: string } | string;
        to?: string;
        message?: { text?: string; metadata?: string };
        biz_opaque_callback_data?: string;
      };
      if (send.channel === 'whatsapp') {
        return whatsappEnvelope({
          statuses: [
            {
              id: send.id,
              status,
              timestamp: String(Math.floor(at.getTime() / 1000)),
              ...(body.to ? { recipient_id: body.to } : { recipient_user_id: body.recipient }),
              ...(errorCode === undefined
                ? {}
                : { errors: [{ code: errorCode, title: `Error ${errorCode}` }] }),
              ...(body.biz_opaque_callback_data === undefined
                ? {}
                : { biz_opaque_callback_data: body.biz_opaque_callback_data }),
            },
          ],
        });
      }
      const instagram = send.channel === 'instagram';
      const ours = instagram ? IG_ACCOUNT_ID : PAGE_ID;
      const recipient = typeof body.recipient === 'object' ? body.recipient.id : undefined;
      return {
        object: instagram ? 'instagram' : 'page',
        entry: [
          {
            id: ours,
            time: at.getTime(),
            messaging: [
              {
                sender: { id: ours },
                recipient: { id: recipient },
                timestamp: at.getTime(),
                message: {
                  mid: send.id,
                  is_echo: true,
                  // Instagram's echoes carry no app id.
                  ...(appId && !instagram ? { app_id: Number(appId) } : {}),
                  ...(body.message?.metadata === undefined ? {} : { metadata: body.message.metadata }),
                  text: body.message?.text ?? '',
                },
              },
            ],
          },
        ],
      };
    },
    failNext(count, failure) {
      for (let i = 0; i < count; i++) script.push(failure);
    },
    customerWrote(waId, at) {
      lastInbound.set(waId, at.getTime());
    },
    useClock(next) {
      clock = next;
    },
    approve(template) {
      const same = templates.findIndex((t) => t.name === template.name && t.language === template.language);
      if (same >= 0) templates.splice(same, 1);
      templates.push(template);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
  return fake;
}

/** Where each of our sends went: the Graph path (no version), the token, the customer. */
export function graphSends(graph: FakeMeta): Array<{ path: string; token: string; to: unknown }> {
  return graph.requests
    .filter((request: RecordedGraphRequest) => request.method === 'POST')
    .map((request) => {
      const body = request.body as { to?: unknown; recipient?: { id?: unknown } };
      return {
        path: request.path.replace(/^\/v[\d.]+\//, ''),
        token: String(request.headers.authorization).replace('Bearer ', ''),
        to: body.to ?? body.recipient?.id,
      };
    });
}
