import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Credentials the fake accepts unless told otherwise; not real ones. */
export const FAKE_ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
export const FAKE_AUTH_TOKEN = 'fedcba9876543210fedcba9876543210';

export type RecordedRequest = {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The form body; a repeated param (MediaUrl) becomes an array. */
  form: Record<string, string | string[]>;
  rawBody: string;
};

/**
 * `hang`: accept the request and never answer (for timeouts); `take-and-hang`: create the
 * message (the customer gets it, the list shows it), then never answer, as when Twilio's answer
 * is lost on its way back.
 */
export type FakeFailure =
  | 'hang'
  | 'take-and-hang'
  | {
      status: number;
      code?: number;
      message?: string;
      retryAfter?: string;
      /**
       * Twilio's backend took the message (the customer gets it, the list shows it), and its edge
       * answered `status` with a gateway's own page, not Twilio's JSON error (a 502 or 504 after
       * the backend timed out).
       */
      taken?: boolean;
    };

export type FakeTwilio = {
  /** Base URL to pass as apiBaseUrl. */
  url: string;
  requests: RecordedRequest[];
  /** The next `count` requests to the Messages API get this answer instead of a 201. */
  failNext(count: number, failure: FakeFailure): void;
  /** The outage is over: the failures still scripted by failNext are dropped. */
  recover(): void;
  /**
   * While set, every read of the Messages API (its list, one message by SID) is answered with
   * this status and Twilio's error JSON (code 20000 + status), as during an API outage; sends
   * are not affected. Null: reads answer again.
   */
  failReads(status: number | null): void;
  /**
   * The clock the messages it creates are stamped by (`date_created`, to the whole second as
   * Twilio's): the test's, so that a lookup's date filter is exercised (startTestSwitchboardThroughTwilio
   * sets its switchboard's). The real time until then.
   */
  useClock(clock: { now(): Date }): void;
  /**
   * The customer (`whatsapp:+E164`) wrote at `at`: a free-form `Body` to them more than 24 hours
   * later is refused (63016), as Twilio does for WhatsApp; a Content template (ContentSid) still
   * goes. A customer the fake was never told about has an open window.
   */
  customerWrote(address: string, at: Date): void;
  /** The messages it took, oldest first: their SID, body and the StatusCallback URL sent with them. */
  taken(): ReadonlyArray<{ sid: string; body: string; statusCallback: string | null }>;
  /**
   * The status callback Twilio posts for message `sid`: to the StatusCallback URL given with it
   * (its query kept), its form (MessageSid, MessageStatus, From, To…) signed as Twilio signs
   * (HMAC-SHA1 under the auth token over the URL, then each param's name and value, names
   * sorted; base64 in X-Twilio-Signature). Null when it was sent without one.
   */
  statusCallback(sid: string, status: string): { url: string; body: string; headers: Headers } | null;
  close(): Promise<void>;
};

/** A Content template the fake knows, by its HX sid: its body with `{{1}}`… placeholders. */
export type FakeContent = { body: string };

const WINDOW_MS = 24 * 60 * 60_000;

/**
 * A Content template send as Twilio answers it: the rendered body, or its refusal: an unknown
 * ContentSid (21655), ContentVariables that are not a JSON object of non-empty strings (21656),
 * a variable count other than the template's placeholders (63028).
 */
function renderContent(
  form: Record<string, string | string[]>,
  contents: Readonly<Record<string, FakeContent>>,
): { body: string } | { code: number; message: string } {
  const content = typeof form.ContentSid === 'string' ? contents[form.ContentSid] : undefined;
  if (!content) return { code: 21655, message: 'The ContentSid is Invalid' };
  let variables: unknown;
  try {
    variables = JSON.parse(typeof form.ContentVariables === 'string' ? form.ContentVariables : '{}');
  } catch {
    return { code: 21656, message: 'The ContentVariables Parameter is invalid' };
  }
  if (
    typeof variables !== 'object' ||
    variables === null ||
    Object.values(variables).some((value) => typeof value !== 'string' || value === '')
  ) {
    return { code: 21656, message: 'The ContentVariables Parameter is invalid' };
  }
  const values = variables as Record<string, string>;
  const placeholders = new Set([...content.body.matchAll(/\{\{(\w+)\}\}/g)].map((match) => match[1]));
  if (
    placeholders.size !== Object.keys(values).length ||
    [...placeholders].some((key) => key === undefined || !(key in values))
  ) {
    return {
      code: 63028,
      message: 'Number of parameters provided does not match the expected number of parameters',
    };
  }
  return { body: content.body.replace(/\{\{(\w+)\}\}/g, (_, key: string) => values[key] ?? '') };
}

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\.json$/;
const MESSAGE_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\/((?:SM|MM)[0-9a-f]{32})\.json$/;

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

// Twilio's REST error shape.
function twilioError(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function formOf(rawBody: string): Record<string, string | string[]> {
  const form: Record<string, string | string[]> = {};
  const params = new URLSearchParams(rawBody);
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    form[key] = values.length === 1 ? (values[0] as string) : values;
  }
  return form;
}

function messageJson(
  accountSid: string,
  form: Record<string, string | string[]>,
  createdAt: Date,
  body: string = typeof form.Body === 'string' ? form.Body : '',
) {
  const sid = `SM${randomBytes(16).toString('hex')}`;
  const now = createdAt.toUTCString().replace('GMT', '+0000');
  const service = typeof form.MessagingServiceSid === 'string' ? form.MessagingServiceSid : null;
  const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${sid}`;
  return {
    account_sid: accountSid,
    api_version: '2010-04-01',
    body,
    date_created: now,
    date_sent: null,
    date_updated: now,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: service ? null : (form.From ?? null),
    messaging_service_sid: service,
    num_media: '0',
    num_segments: '1',
    price: null,
    price_unit: 'USD',
    sid,
    status: service ? 'accepted' : 'queued',
    subresource_uris: { media: `${uri}/Media.json` },
    to: form.To,
    uri: `${uri}.json`,
  };
}

/**
 * A local stand-in for Twilio's Messages API on 127.0.0.1, recording every request: a POST
 * creates a message (201), a GET lists the ones it created (Twilio's Messages list).
 */
export async function startFakeTwilio(
  options: {
    accountSid?: string;
    authToken?: string;
    clock?: { now(): Date };
    /** The Content templates of the account, by ContentSid (none unless given). */
    contents?: Record<string, FakeContent>;
  } = {},
): Promise<FakeTwilio> {
  const contents = options.contents ?? {};
  // whatsapp:+E164 → when the customer last wrote.
  const lastInbound = new Map<string, number>();
  let clock = options.clock ?? { now: () => new Date() };
  const accountSid = options.accountSid ?? FAKE_ACCOUNT_SID;
  const authToken = options.authToken ?? FAKE_AUTH_TOKEN;
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  const requests: RecordedRequest[] = [];
  const script: FakeFailure[] = [];
  let readFailure: number | null = null;
  // The messages it took, newest first, as its Messages list reads them.
  const sent: Array<ReturnType<typeof messageJson>> = [];
  // SID → the StatusCallback URL sent with the message.
  const callbacks = new Map<string, string>();
  const take = (form: Record<string, string | string[]>, body?: string) => {
    const created = messageJson(accountSid, form, clock.now(), body);
    sent.unshift(created);
    if (typeof form.StatusCallback === 'string') callbacks.set(created.sid, form.StatusCallback);
    return created;
  };

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const path = request.url ?? '/';
    const form = formOf(rawBody);
    requests.push({ method: request.method ?? '', path, headers: request.headers, form, rawBody });

    if (request.headers.authorization !== expectedAuth) {
      return sendJson(response, 401, twilioError(401, 20003, 'Authenticate'), {
        'www-authenticate': 'Basic realm="Twilio API"',
      });
    }
    const url = new URL(path, 'http://fake');
    if (request.method === 'GET' && readFailure !== null)
      return sendJson(response, readFailure, twilioError(readFailure, 20000 + readFailure, 'Unavailable'));
    const match = MESSAGES_PATH.exec(url.pathname);
    if (request.method === 'GET' && match?.[1] === accountSid) return sendJson(response, 200, listPage(url));
    // Twilio's Message resource, fetched by its SID.
    const one = MESSAGE_PATH.exec(url.pathname);
    if (request.method === 'GET' && one?.[1] === accountSid) {
      const found = sent.find((message) => message.sid === one[2]);
      if (found) return sendJson(response, 200, found);
      return sendJson(response, 404, twilioError(404, 20404, `The requested resource ${path} was not found`));
    }
    if (request.method !== 'POST' || match?.[1] !== accountSid) {
      return sendJson(response, 404, twilioError(404, 20404, `The requested resource ${path} was not found`));
    }
    const failure = script.shift();
    if (failure === 'hang') return; // the client's timeout ends it; close() drops the socket
    if (failure === 'take-and-hang') {
      take(form);
      return;
    }
    if (failure && typeof failure === 'object' && failure.taken) {
      take(form);
      response.writeHead(failure.status, { 'content-type': 'text/html' });
      response.end(`<html><body><h1>${failure.status}</h1></body></html>`);
      return;
    }
    if (failure) {
      const headers: Record<string, string> = failure.retryAfter ? { 'retry-after': failure.retryAfter } : {};
      const code = failure.code ?? (failure.status === 429 ? 20429 : 20500);
      return sendJson(
        response,
        failure.status,
        twilioError(failure.status, code, failure.message ?? 'Error'),
        headers,
      );
    }
    if (typeof form.To !== 'string' || (typeof form.From !== 'string' && !form.MessagingServiceSid)) {
      return sendJson(response, 400, twilioError(400, 21604, "A 'To' phone number is required."));
    }
    let body: string | undefined;
    if (form.ContentSid !== undefined) {
      const rendered = renderContent(form, contents);
      if ('code' in rendered)
        return sendJson(response, 400, twilioError(400, rendered.code, rendered.message));
      body = rendered.body;
    } else {
      const wrote = lastInbound.get(form.To);
      if (wrote !== undefined && clock.now().getTime() - wrote > WINDOW_MS) {
        return sendJson(
          response,
          400,
          twilioError(
            400,
            63016,
            'Failed to send freeform message because you are outside the allowed window.',
          ),
        );
      }
    }
    return sendJson(response, 201, take(form, body));
  }

  // Twilio's Messages list: newest first, filtered on To and From (exact), PageSize (default 50).
  function listPage(url: URL) {
    const to = url.searchParams.get('To');
    const from = url.searchParams.get('From');
    const pageSize = Math.min(1000, Number(url.searchParams.get('PageSize') ?? 50) || 50);
    const messages = sent
      .filter((message) => (!to || message.to === to) && (!from || message.from === from))
      .slice(0, pageSize);
    const uri = `${url.pathname}?${url.searchParams}`;
    return {
      end: Math.max(0, messages.length - 1),
      first_page_uri: uri,
      messages,
      next_page_uri: null,
      page: 0,
      page_size: pageSize,
      previous_page_uri: null,
      start: 0,
      uri,
    };
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(count, failure) {
      for (let i = 0; i < count; i++) script.push(failure);
    },
    recover() {
      script.length = 0;
    },
    failReads(status) {
      readFailure = status;
    },
    useClock(next) {
      clock = next;
    },
    customerWrote(address, at) {
      lastInbound.set(address, at.getTime());
    },
    taken() {
      return sent
        .map((message) => ({
          sid: message.sid,
          body: message.body,
          statusCallback: callbacks.get(message.sid) ?? null,
        }))
        .reverse();
    },
    statusCallback(sid, status) {
      const message = sent.find((candidate) => candidate.sid === sid);
      const url = callbacks.get(sid);
      if (!message || !url) return null;
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: '2010-04-01',
        MessageSid: sid,
        MessageStatus: status,
        SmsSid: sid,
        SmsStatus: status,
        To: String(message.to),
        ...(message.from ? { From: String(message.from) } : {}),
        ...(message.messaging_service_sid ? { MessagingServiceSid: message.messaging_service_sid } : {}),
      };
      const signed = Object.keys(params)
        .sort()
        .reduce((data, name) => data + name + params[name], url);
      const signature = createHmac('sha1', authToken).update(signed, 'utf8').digest('base64');
      const headers = new Headers({
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signature,
        'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
      });
      return { url, body: new URLSearchParams(params).toString(), headers };
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
