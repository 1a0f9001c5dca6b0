import { afterEach, describe, expect, it } from 'vitest';
import { type BusinessConfig, DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import type { ReplyTemplates } from '#lib/domain/reply-template.ts';
import { UNCERTAIN_WAIT_MS } from '#lib/use-cases/send-ack.ts';
import { TestClock } from '#test/support/clock.ts';
import { type FakeMeta, type FakeTemplate, startFakeMeta } from '#test/support/fake-meta.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { whatsappEnvelope } from '#test/support/meta-factory.ts';
import {
  startTestSwitchboard,
  startTestSwitchboardThroughTwilio,
  type TestSwitchboard,
} from '#test/support/switchboard.ts';

// A WhatsApp customer who writes on Friday evening is promised a reply by Monday 10:00; the agent
// who answers then is past the 24-hour customer service window, where WhatsApp takes only an
// approved template. Before stop 26 Switchboard refused every such reply (409 OUTSIDE_WINDOW).

type Json = Record<string, unknown>;
type GraphSend = {
  type?: string;
  text?: { body?: string };
  template?: {
    name: string;
    language: { code: string };
    components: Array<{ type: string; parameters: Array<{ type: string; text: string }> }>;
  };
};

const FRIDAY_EVENING = '2026-11-27T19:00:00+01:00';
const MONDAY_MORNING = '2026-11-30T09:30:00+01:00';
const WA_ID = '48601234567';
const CONTENT_PL = `HX${'a'.repeat(32)}`;
const CONTENT_EN = `HX${'b'.repeat(32)}`;

const TEMPLATES: ReplyTemplates = {
  pl: { meta: { name: 'odpowiedz_konsultanta', language: 'pl' }, twilio: { contentSid: CONTENT_PL } },
  en: { meta: { name: 'agent_reply', language: 'en' }, twilio: { contentSid: CONTENT_EN } },
};
const APPROVED: FakeTemplate[] = [
  { name: 'odpowiedz_konsultanta', language: 'pl', parameters: 2 },
  { name: 'agent_reply', language: 'en', parameters: 2 },
];

const business = (replyTemplates: ReplyTemplates): BusinessConfig => ({
  ...DEFAULT_BUSINESS_CONFIG,
  whatsapp: { replyTemplates },
});

describe('an agent replying on WhatsApp Cloud after the 24-hour window', () => {
  let sb: TestSwitchboard;
  let meta: FakeMeta;

  afterEach(async () => {
    await sb.stop();
    await meta.close();
  });

  async function start(options: { templates?: ReplyTemplates; approved?: FakeTemplate[] } = {}) {
    meta = await startFakeMeta({ templates: options.approved ?? APPROVED });
    sb = await startTestSwitchboard({
      clock: new TestClock(FRIDAY_EVENING),
      graphBaseUrl: meta.url,
      business: business(options.templates ?? TEMPLATES),
    });
    meta.useClock(sb.clock);
  }

  /** The customer writes on WhatsApp (Cloud API) and is acknowledged; the conversation's id. */
  async function customerWrites(text: string, n = 1): Promise<string> {
    meta.customerWrote(WA_ID, sb.clock.now());
    const response = await sb.postMeta(
      whatsappEnvelope({
        contacts: [{ profile: { name: 'Ewa Kowalska' }, wa_id: WA_ID }],
        messages: [
          {
            from: WA_ID,
            id: `wamid.TEMPLATE${n}`,
            timestamp: String(Math.floor(sb.clock.now().getTime() / 1000)),
            type: 'text',
            text: { body: text },
          },
        ],
      }),
    );
    expect(response.status).toBe(200);
    await sb.drain();
    return (await sb.onlyOpenConversation()).id;
  }

  const sends = () =>
    meta.requests.filter((r) => r.path.endsWith('/messages')).map((r) => r.body as GraphSend);

  it('should send a reply inside the window free-form, as before', async () => {
    // Prepare
    await start();
    const id = await customerWrites('Dzień dobry, kiedy dostawa?');
    sb.clock.advance(20 * 60_000);

    // Act
    const response = await sb.act(`/conversations/${id}/replies`, { text: 'Jutro rano.' });

    // Assess
    expect(response.status).toBe(201);
    const reply = sends().at(-1);
    expect(reply?.type).toBe('text');
    expect(reply?.text?.body).toMatch(/^Jutro rano\.\n/);
    expect(((await response.json()) as { message: Json }).message).not.toHaveProperty('template');
  });

  it("should send Monday's reply to a Friday-evening message as the Polish template, store it as sent so, and keep the promise", async () => {
    // Prepare: Friday 19:00, the team is away; the ack promises Monday 10:00
    await start();
    const id = await customerWrites('Dzień dobry, kiedy dostawa?');
    const promised = (await sb.onlyOpenConversation()).replyBy as string;
    sb.clock.set(MONDAY_MORNING);

    // Act
    const response = await sb.act(`/conversations/${id}/replies`, {
      text: 'Dzień dobry!\n\nPaczka wyszła dziś rano.\tKurier będzie jutro.',
    });

    // Assess: the template, its two parameters (no newline, tab or long run of spaces)
    expect(response.status).toBe(201);
    const sent = sends().at(-1);
    expect(sent?.type).toBe('template');
    expect(sent?.template?.name).toBe('odpowiedz_konsultanta');
    expect(sent?.template?.language.code).toBe('pl');
    const parameters = sent?.template?.components.find((c) => c.type === 'body')?.parameters ?? [];
    expect(parameters.map((p) => p.text)).toEqual([
      'Dzień dobry! / Paczka wyszła dziś rano. Kurier będzie jutro.',
      expect.stringMatching(/^Anna Kowalska, /),
    ]);
    const { message } = (await response.json()) as { message: Json };
    expect(message.template).toEqual({ name: 'odpowiedz_konsultanta', language: 'pl' });
    expect(message.text).toBe(`${parameters[0]?.text}\n${parameters[1]?.text}`);
    const { messages } = (await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: Json[] };
    expect(messages.find((m) => m.kind === 'reply')).toMatchObject({ template: message.template });
    // The promise is measured against it as against any reply, and kept.
    expect(Date.parse(promised)).toBeGreaterThan(sb.clock.now().getTime());
    const replied = (await sb.events()).find((event) => event.type === 'reply.sent');
    expect(replied?.data).toMatchObject({ template: 'odpowiedz_konsultanta', promised: true });
    await sb.feedStats();
    const report = (await (await sb.api('/api/service-level?from=2026-11-27&to=2026-11-30')).json()) as {
      byChannel: Record<string, { promisesKept: { kept: number; measured: number } }>;
    };
    expect(report.byChannel.whatsapp?.promisesKept).toMatchObject({ measured: 1, kept: 1 });
  });

  it("should send it as the template when WhatsApp refuses free-form text though our receipt of the customer's message was under 24 hours ago (Meta delivered it late)", async () => {
    // Prepare: the customer writes on Friday at 19:00, and Meta delivers the webhook at 21:00
    // (its retries after our outage); an agent answers on Saturday at 20:00: 25 hours after the
    // message (WhatsApp's window is closed), 23 after we received it
    await start();
    meta.customerWrote(WA_ID, sb.clock.now());
    const written = String(Math.floor(sb.clock.now().getTime() / 1000));
    sb.clock.advance(2 * 60 * 60_000);
    const delivered = await sb.postMeta(
      whatsappEnvelope({
        contacts: [{ profile: { name: 'Ewa Kowalska' }, wa_id: WA_ID }],
        messages: [
          {
            from: WA_ID,
            id: 'wamid.LATE1',
            timestamp: written,
            type: 'text',
            text: { body: 'Kiedy dostawa?' },
          },
        ],
      }),
    );
    expect(delivered.status).toBe(200);
    await sb.drain();
    const id = (await sb.onlyOpenConversation()).id;
    sb.clock.set('2026-11-28T20:00:00+01:00');

    // Act
    const response = await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła.' });

    // Assess: the agent's reply reaches the customer, as the template configured
    expect(response.status).toBe(201);
    expect(sends().at(-1)?.type).toBe('template');
    const { message } = (await response.json()) as { message: Json };
    expect(message.template).toEqual({ name: 'odpowiedz_konsultanta', language: 'pl' });
  });

  it('should pick the English template for an English conversation', async () => {
    // Prepare
    await start();
    const id = await customerWrites('Hello, when will my order arrive? Thank you');
    expect((await sb.onlyOpenConversation()).locale).toBe('en');
    sb.clock.set(MONDAY_MORNING);

    // Act
    const response = await sb.act(`/conversations/${id}/replies`, { text: 'It left this morning.' });

    // Assess
    expect(response.status).toBe(201);
    expect(sends().at(-1)?.template).toMatchObject({ name: 'agent_reply', language: { code: 'en' } });
  });

  it('should refuse it with 409 naming the missing configuration when no template is configured for the locale, without calling Meta', async () => {
    // Prepare: only a Polish template; the customer writes English
    await start({ templates: { pl: TEMPLATES.pl } });
    const id = await customerWrites('Hello, when will my order arrive? Thank you');
    sb.clock.set(MONDAY_MORNING);
    const before = meta.requests.length;

    // Act
    const response = await sb.act(`/conversations/${id}/replies`, { text: 'It left this morning.' });

    // Assess
    expect(response.status).toBe(409);
    const { error } = (await response.json()) as { error: { code: string; message: string; details: Json } };
    expect(error.code).toBe('OUTSIDE_WINDOW');
    expect(error.message).toContain('whatsapp.replyTemplates.en');
    expect(error.message).toContain('another channel');
    expect(error.details).toEqual({
      channel: 'whatsapp',
      locale: 'en',
      provider: 'meta',
      configure: 'whatsapp.replyTemplates.en.meta',
    });
    expect(meta.requests).toHaveLength(before);
  });

  it('should refuse a reply longer than a template parameter takes with 422 TEXT_TOO_LONG, and send one that fits', async () => {
    // Prepare
    await start();
    const id = await customerWrites('Dzień dobry, kiedy dostawa?');
    sb.clock.set(MONDAY_MORNING);
    const before = meta.requests.length;

    // Act: 1,025 characters (free-form WhatsApp would take 4,096), then 1,024
    const tooLong = await sb.act(`/conversations/${id}/replies`, { text: 'a'.repeat(1025) });
    const fits = await sb.act(`/conversations/${id}/replies`, { text: 'a'.repeat(1024) });

    // Assess
    expect(tooLong.status).toBe(422);
    const { error } = (await tooLong.json()) as { error: { code: string; message: string; details: Json } };
    expect(error.code).toBe('TEXT_TOO_LONG');
    expect(error.message).toContain('template');
    expect(error.details).toMatchObject({
      channel: 'whatsapp',
      limit: 1024,
      length: 1025,
      maxText: 1024,
      template: true,
    });
    expect(fits.status).toBe(201);
    expect(meta.requests).toHaveLength(before + 1);
  });

  it.each([
    ['a template name WhatsApp does not have (132001)', [], '132001'],
    [
      'a template whose body takes another number of parameters (132000)',
      [{ name: 'odpowiedz_konsultanta', language: 'pl', parameters: 1 }],
      '132000',
    ],
  ] as const)(
    'should answer 500 TEMPLATE_REFUSED naming our configuration for %s, and send on a retry once it is fixed',
    async (_, approved, code) => {
      // Prepare
      await start({ approved: [...approved] });
      const id = await customerWrites('Dzień dobry, kiedy dostawa?');
      sb.clock.set(MONDAY_MORNING);

      // Act
      const refused = await sb.act(`/conversations/${id}/replies`, { text: 'Jutro.' }, { key: 'monday-1' });

      // Assess: not "the customer rejected it"; the retry with the same key sends it once fixed
      expect(refused.status).toBe(500);
      const { error } = (await refused.json()) as { error: { code: string; message: string; details: Json } };
      expect(error.code).toBe('TEMPLATE_REFUSED');
      expect(error.message).toContain('switchboard.config.json');
      expect(error.message).toContain('odpowiedz_konsultanta');
      expect(error.details).toMatchObject({ provider: 'meta', providerCode: code });
      expect((await sb.onlyOpenConversation()).firstReplyAt).toBeUndefined();
      expect(
        sb.log.lines.some((line) => line.message === 'the provider refused the reply template configured'),
      ).toBe(true);

      // Act: WhatsApp Manager has the template now; the agent's tool retries the same request
      meta.approve({ name: 'odpowiedz_konsultanta', language: 'pl', parameters: 2 });
      const retry = await sb.act(`/conversations/${id}/replies`, { text: 'Jutro.' }, { key: 'monday-1' });

      // Assess
      expect(retry.status).toBe(201);
      expect((await sb.onlyOpenConversation()).firstReplyAt).toBeDefined();
    },
  );
});

describe('an agent replying on WhatsApp through Twilio after the 24-hour window', () => {
  let sb: TestSwitchboard;
  let twilio: FakeTwilio;
  const CUSTOMER = 'whatsapp:+48601234567';

  afterEach(async () => {
    await sb.stop();
    await twilio.close();
  });

  async function start(templates: ReplyTemplates = TEMPLATES) {
    twilio = await startFakeTwilio({
      contents: {
        [CONTENT_PL]: {
          body: 'Dzień dobry, odpowiadamy na Pani/Pana wiadomość: {{1}} Pozdrawiam, {{2}}. Zapraszamy do kontaktu.',
        },
      },
    });
    sb = await startTestSwitchboardThroughTwilio(twilio, {
      clock: new TestClock(FRIDAY_EVENING),
      business: business(templates),
    });
    twilio.customerWrote(CUSTOMER, sb.clock.now());
    await sb.postTwilio('messaging', 'whatsapp-profile', {
      From: CUSTOMER,
      WaId: CUSTOMER.slice('whatsapp:+'.length),
      Body: 'Dzień dobry, kiedy dostawa?',
    });
    await sb.drain();
    return (await sb.onlyOpenConversation()).id;
  }

  const lastSend = () => twilio.requests.filter((r) => r.method === 'POST').at(-1)?.form;

  it('should send it with ContentSid and ContentVariables instead of Body, and store it as sent so', async () => {
    // Prepare
    const id = await start();
    sb.clock.set(MONDAY_MORNING);

    // Act
    const response = await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła\ndziś rano.' });

    // Assess
    expect(response.status).toBe(201);
    const form = lastSend();
    expect(form?.ContentSid).toBe(CONTENT_PL);
    expect(form).not.toHaveProperty('Body');
    const variables = JSON.parse(String(form?.ContentVariables)) as Record<string, string>;
    expect(variables['1']).toBe('Paczka wyszła / dziś rano.');
    expect(variables['2']).toMatch(/^Anna Kowalska, /);
    const { message } = (await response.json()) as { message: Json };
    expect(message.template).toEqual({ name: CONTENT_PL });
    expect(message.text).toBe(`${variables['1']}\n${variables['2']}`);
  });

  it('should refuse it with 409 naming the Twilio configuration when none is configured', async () => {
    // Prepare
    const id = await start({ en: TEMPLATES.en });
    sb.clock.set(MONDAY_MORNING);
    const before = twilio.requests.length;

    // Act
    const response = await sb.act(`/conversations/${id}/replies`, { text: 'Jutro.' });

    // Assess
    expect(response.status).toBe(409);
    const { error } = (await response.json()) as { error: { code: string; details: Json } };
    expect(error.code).toBe('OUTSIDE_WINDOW');
    expect(error.details).toMatchObject({
      locale: 'pl',
      provider: 'twilio',
      configure: 'whatsapp.replyTemplates.pl.twilio',
    });
    expect(twilio.requests).toHaveLength(before);
  });

  it('should answer 500 TEMPLATE_REFUSED for a ContentSid Twilio does not know (21655)', async () => {
    // Prepare: the English one is configured as Polish by mistake
    const id = await start({ pl: { twilio: { contentSid: CONTENT_EN } } });
    sb.clock.set(MONDAY_MORNING);

    // Act
    const response = await sb.act(`/conversations/${id}/replies`, { text: 'Jutro.' });

    // Assess
    expect(response.status).toBe(500);
    const { error } = (await response.json()) as { error: { code: string; details: Json } };
    expect(error.code).toBe('TEMPLATE_REFUSED');
    expect(error.details).toMatchObject({
      provider: 'twilio',
      providerCode: '21655',
      template: { name: CONTENT_EN },
    });
  });
});

// Found by the review of stop 26: a template reply whose answer was lost is looked up in the
// form it went in, whatever the window is when its retry comes.
describe('an uncertain WhatsApp template reply through Twilio', () => {
  let sb: TestSwitchboard;
  let twilio: FakeTwilio;
  const CUSTOMER = 'whatsapp:+48601234567';

  afterEach(async () => {
    await sb.stop();
    await twilio.close();
  });

  /** Twilio takes the next `lostAnswers` sends but their answers are lost; its list is out while `listDown`. */
  type Degraded = { lostAnswers: number; listDown: boolean };
  function degraded(state: Degraded): typeof fetch {
    return async (input, init) => {
      const lookup = String(input).includes('/Messages.json?');
      if (lookup && state.listDown) throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      const response = await fetch(input, init);
      if (!lookup && init?.method === 'POST' && state.lostAnswers > 0) {
        state.lostAnswers--;
        await response.text();
        throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      }
      return response;
    };
  }

  it('should not send it a second time when the customer wrote again (the window open) before its retry', async () => {
    // Prepare: Friday's customer; on Monday the template reply is taken by Twilio, but its answer
    // is lost and Twilio's list cannot be read then (uncertain, 503)
    twilio = await startFakeTwilio({
      contents: {
        [CONTENT_PL]: { body: 'Dzień dobry, odpowiadamy na wiadomość: {{1}} Pozdrawiam, {{2}}.' },
      },
    });
    const state: Degraded = { lostAnswers: 0, listDown: false };
    sb = await startTestSwitchboardThroughTwilio(twilio, {
      clock: new TestClock(FRIDAY_EVENING),
      business: business(TEMPLATES),
      fetch: degraded(state),
    });
    twilio.customerWrote(CUSTOMER, sb.clock.now());
    await sb.postTwilio('messaging', 'whatsapp-profile', { From: CUSTOMER, Body: 'Kiedy dostawa?' });
    await sb.drain();
    const id = (await sb.onlyOpenConversation()).id;
    sb.clock.set(MONDAY_MORNING);
    const posts = () => twilio.requests.filter((r) => r.method === 'POST').length;
    const before = posts();
    state.lostAnswers = 1;
    state.listDown = true;
    const first = await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła.' }, { key: 'k-1' });
    expect(first.status).toBe(503);

    // Act: the customer, who got it, answers at once (the window opens again); the list is back,
    // and the agents' tool retries after the wait
    state.listDown = false;
    sb.clock.advance(60_000);
    twilio.customerWrote(CUSTOMER, sb.clock.now());
    const sid = 'SM0000000000000000000000000000abcd';
    await sb.postTwilio('messaging', 'whatsapp-profile', {
      From: CUSTOMER,
      Body: 'Dziękuję!',
      MessageSid: sid,
      SmsMessageSid: sid,
      SmsSid: sid,
    });
    await sb.drain();
    sb.clock.advance(UNCERTAIN_WAIT_MS);
    const retry = await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła.' }, { key: 'k-1' });

    // Assess: found as the template it went as, recorded once; Twilio got one send
    expect(retry.status).toBe(201);
    expect(posts()).toBe(before + 1);
    const { message } = (await retry.json()) as { message: Json };
    expect(message.template).toEqual({ name: CONTENT_PL });
  });
});
