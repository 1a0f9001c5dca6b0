import { afterEach, describe, expect, it } from 'vitest';
import {
  type BusinessConfig,
  DEFAULT_BUSINESS_CONFIG,
  parseBusinessConfig,
} from '#lib/domain/business-config.ts';
import { TestClock } from '#test/support/clock.ts';
import { drainWith, headerOf, postMailgunMail, sesRuntime } from '#test/support/email.ts';
import { startFakeSes } from '#test/support/fake-ses.ts';
import { TEST_NOW } from '#test/support/mailgun-factory.ts';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// What the customer actually receives: the language of acks and greetings, the signature of
// agents' replies, the SMS after a call, and whose name an email answer comes under. Found by
// a review of the customer-facing texts at stop 23.

const MOBILE = '+48601234567';

const NINE_TO_FIVE = ['09:00-17:00'];
// Anna (the default) works Monday and Tuesday, Piotr Wednesday to Friday.
const TWO_ON_ROTA: BusinessConfig = parseBusinessConfig({
  ...DEFAULT_BUSINESS_CONFIG,
  people: {
    default: 'anna',
    rota: [
      {
        id: 'anna',
        name: 'Anna Kowalska',
        phone: '22 123 45 67',
        email: 'anna.kowalska@example.com',
        hours: { mon: NINE_TO_FIVE, tue: NINE_TO_FIVE },
      },
      {
        id: 'piotr',
        name: 'Piotr Nowak',
        phone: '22 765 43 21',
        email: 'piotr.nowak@example.com',
        hours: { wed: NINE_TO_FIVE, thu: NINE_TO_FIVE, fri: NINE_TO_FIVE },
      },
    ],
  },
});

describe('what the customer receives', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
  });

  it('should greet a returning English customer in English when they call, not in the default Polish', async () => {
    // Prepare: an English customer writes, is acknowledged in English, answered and resolved
    sb = await startTestSwitchboard();
    await sb.postSms({ From: MOBILE, Body: 'Hello, where is my parcel? It has not arrived yet.' });
    await sb.drain();
    const [ack] = await sb.outbox();
    expect(ack?.text).toContain("I'll reply");
    const id = (await sb.onlyOpenConversation()).id;
    sb.clock.advance(60 * 60_000);
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'It ships today.' })).status).toBe(201);
    expect((await sb.act(`/conversations/${id}/resolve`, {})).status).toBe(200);

    // Act: a week later the same customer calls the same number
    sb.clock.advance(7 * 24 * 60 * 60_000);
    const greeting = await (await sb.postTwilio('voice', 'voice-incoming', { From: MOBILE })).text();
    await sb.drain();

    // Assess: the language we know they speak, not the business default, in the SMS after it too
    expect(greeting).toContain('language="en-GB"');
    expect(greeting).toContain('will call you back');
    expect((await sb.outbox()).at(-1)?.text).toContain("thanks for calling. I'll call you back");
  });

  it('should acknowledge a later question in English when the conversation opened with a photo and went on in English', async () => {
    // Prepare: a photo without text opens the conversation (no language to tell), then the
    // customer explains in English; an agent answers
    sb = await startTestSwitchboard();
    await sb.postTwilio('messaging', 'mms-two-media', { From: MOBILE, To: '+48221234567', Body: '' });
    await sb.drain();
    sb.clock.advance(60_000);
    await sb.postSms({
      From: MOBILE,
      Body: 'Hello, this is the parcel that arrived damaged. Can I get a refund?',
    });
    const id = (await sb.onlyOpenConversation()).id;
    sb.clock.advance(60 * 60_000);
    expect((await sb.act(`/conversations/${id}/replies`, { text: 'Of course, refund issued.' })).status).toBe(
      201,
    );

    // Act: two hours later a new question, clearly English
    sb.clock.advance(2 * 60 * 60_000);
    await sb.postSms({ From: MOBILE, Body: 'Thanks! When will the refund arrive on my card?' });
    await sb.drain();

    // Assess: the second episode's ack speaks the customer's language, which the contact keeps
    const acks = (await sb.outbox()).filter((sent) => (sent.automatic as unknown) === true);
    expect(acks).toHaveLength(2);
    expect(acks[1]?.text).toContain("I'll reply");
    expect(acks[1]?.text).not.toContain('Odpiszę');
    const contact = await sb.api(`/api/contacts/${encodeURIComponent(`phone:${MOBILE}`)}`);
    expect(await contact.json()).toMatchObject({ contact: { locale: 'en' } });
  });

  it('should keep a Polish conversation stored before its language was marked told in Polish when the customer writes "Thanks!"', async () => {
    // Prepare: found at stop 23 (review d2). A Polish conversation as the previous release
    // stored it: its locale read from its first message, but no `localeDetected`.
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const stored = await sb.onlyOpenConversation();
    expect(stored.locale).toBe('pl');
    const { localeDetected: _new, ...previousRelease } = stored;
    await sb.runtime.store.saveConversation(previousRelease, stored.version);

    // Act: a word of thanks in English, as docs/channels.md's example
    sb.clock.advance(5 * 60_000);
    await sb.postSms({ From: MOBILE, Body: 'Thanks!' });
    await sb.drain();

    // Assess: once told, a word in another language does not change it; nor the contact's
    const after = await sb.onlyOpenConversation();
    expect(after.locale).toBe('pl');
    const contact = (await (
      await sb.api(`/api/contacts/${encodeURIComponent(`phone:${MOBILE}`)}`)
    ).json()) as {
      contact: { locale?: string };
    };
    expect(contact.contact.locale ?? 'pl').toBe('pl');
  });

  it('should tell a caller in the SMS after the call that we will call back, as the greeting said, not thank them for a message they never left', async () => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act: a mobile caller hears the greeting and hangs up without leaving a voicemail
    const greeting = await (await sb.postTwilio('voice', 'voice-incoming', { From: MOBILE })).text();
    await sb.drain();

    // Assess: the spoken promise is a call back; the SMS that confirms it must say the same
    expect(greeting).toContain('oddzwoni');
    const [sms] = await sb.outbox();
    expect(sms?.channel).toBe('sms');
    expect(sms?.text).not.toContain('dostaliśmy Twoją wiadomość');
    expect(sms?.text).toMatch(/oddzwoni|telefon/);
  });

  it('should send an email acknowledgement under the name of the person who signs it, not another person’s', async () => {
    // Prepare: a mail on Wednesday morning, Piotr's day; SES_FROM_ADDRESS names Anna
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), business: TWO_ON_ROTA });
    await postMailgunMail(sb, {
      from: 'Zofia Wójcik <zofia@poczta.example.pl>',
      messageId: 'q-9@poczta.example.pl',
    });
    const ses = await startFakeSes();
    try {
      // Act: the worker sends the acknowledgement by email
      await drainWith(sb, sesRuntime(sb, ses));

      // Assess: the letter is signed by Piotr, so it must come from Piotr, not from Anna
      const conversation = await sb.onlyOpenConversation();
      expect(conversation.promise?.signer.name).toBe('Piotr Nowak');
      expect(ses.requests).toHaveLength(1);
      const raw = ses.requests[0]?.rawMime ?? '';
      const body = Buffer.from(raw.split('\r\n\r\n')[1] ?? '', 'base64').toString('utf8');
      expect(body).toContain('Piotr Nowak');
      expect(headerOf(raw, 'From')).toContain('Piotr Nowak');
      expect(ses.requests[0]?.body).toMatchObject({ FromEmailAddress: 'anna@sklep.example' });
    } finally {
      await ses.close();
    }
  });

  it('should sign an agent’s reply with a named person and a direct contact, also from a key without an agent name (the inbox page’s token)', async () => {
    // Prepare
    sb = await startTestSwitchboard();
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const id = (await sb.onlyOpenConversation()).id;
    sb.clock.advance(30 * 60_000);

    // Act: the reference inbox replies with AGENT_API_TOKEN, which names no agent
    const reply = await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś rano.' });

    // Assess: the customer still sees who wrote and how to reach them (the person the ack named)
    expect(reply.status).toBe(201);
    const sent = (await sb.outbox()).at(-1);
    expect(sent?.text).toMatch(/Paczka wyszła dziś rano\.\n.*Anna Kowalska/);
    expect(sent?.text).toContain('22 123 45 67');
    const { message } = (await reply.json()) as { message: { text: string } };
    expect(message.text).toBe(sent?.text);
  });

  it('should send an agent’s email reply under the agent’s name, signed with their direct contact', async () => {
    // Prepare: a mail on Wednesday morning; Piotr answers with his own key
    sb = await startTestSwitchboard({ clock: new TestClock(TEST_NOW), business: TWO_ON_ROTA });
    await postMailgunMail(sb, {
      from: 'Zofia Wójcik <zofia@poczta.example.pl>',
      messageId: 'q-10@poczta.example.pl',
    });
    const id = (await sb.onlyOpenConversation()).id;
    const created = await sb.act(
      '/admin/keys',
      { name: 'Helpdesk', scopes: ['read', 'reply'], agentName: 'Piotr Nowak' },
      { key: '' },
    );
    const { token } = (await created.json()) as { token: string };
    const ses = await startFakeSes();
    try {
      // Act
      const response = await sesRuntime(sb, ses).app.request(`/api/conversations/${id}/replies`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': 'reply-from-piotr',
        },
        body: JSON.stringify({ text: 'Faktura jest w załączniku.' }),
      });

      // Assess
      expect(response.status).toBe(201);
      const raw = ses.requests[0]?.rawMime ?? '';
      expect(headerOf(raw, 'From')).toBe('"Piotr Nowak" <anna@sklep.example>');
      const body = Buffer.from(raw.split('\r\n\r\n')[1] ?? '', 'base64').toString('utf8');
      expect(body.replace(/\r\n/g, '\n')).toBe(
        'Faktura jest w załączniku.\n\nPiotr Nowak\ntel. 22 765 43 21\npiotr.nowak@example.com',
      );
    } finally {
      await ses.close();
    }
  });
});
