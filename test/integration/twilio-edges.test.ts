import { afterEach, describe, expect, it } from 'vitest';
import { type BusinessConfig, DEFAULT_BUSINESS_CONFIG } from '#lib/domain/business-config.ts';
import { sweep } from '#lib/use-cases/sweep.ts';
import { TestClock } from '#test/support/clock.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { injectFault, pkStartsWith } from '#test/support/faults.ts';
import {
  startTestSwitchboard,
  startTestSwitchboardThroughTwilio,
  TEST_PUBLIC_URL,
  type TestSwitchboard,
} from '#test/support/switchboard.ts';
import { signTwilio, TEST_AUTH_TOKEN, twilioForm, twilioSid } from '#test/support/twilio-factory.ts';

// Twilio at its edges: YES after STOP, withheld and landline callers in an episode a keyword
// began, our own number, and the voicemail's thank-you in the greeting's language. Each test
// states a sequence Twilio can produce and what Switchboard should do with it. Found by a
// review of the Twilio channel at stop 22.

type ApiConversation = {
  id: string;
  contact: { key: string };
  ack: { state: string; reason?: string } | null;
};

async function conversations(sb: TestSwitchboard): Promise<ApiConversation[]> {
  return ((await (await sb.api('/api/conversations?limit=100')).json()) as { items: ApiConversation[] })
    .items;
}

function withVoiceSms(voiceSms: BusinessConfig['ack']['voiceSms']): BusinessConfig {
  return { ...DEFAULT_BUSINESS_CONFIG, ack: { ...DEFAULT_BUSINESS_CONFIG.ack, voiceSms } };
}

const MOBILE = '+48601234567';
const LANDLINE = '+48221112233';
// Twilio's placeholder for a withheld caller ID: ANONYMOUS spelt on a keypad.
const WITHHELD = '+266696687';
const MINUTE = 60_000;

describe('Twilio at its edges', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  it('should opt a number back in when it texts YES after STOP (Twilio opt-in keyword), and acknowledge its next question', async () => {
    // Prepare: the customer opted out with STOP
    sb = await startTestSwitchboard();
    await sb.postSms({ From: MOBILE, Body: 'STOP' });
    sb.clock.advance(60_000);

    // Act: YES re-subscribes the number at Twilio; then a real question
    await sb.postSms({ From: MOBILE, Body: 'Yes' });
    sb.clock.advance(60_000);
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();

    // Assess: as after START, the contact is opted in and the question gets its one ack
    const contact = await sb.runtime.store.getContact(`phone:${MOBILE}`);
    expect(contact?.optedOut).toBe(false);
    expect(await sb.outbox()).toHaveLength(1);
  });

  it('should never text a withheld caller, even when voiceSms is "always" and they leave a voicemail', async () => {
    // Prepare
    sb = await startTestSwitchboard({ business: withVoiceSms('always') });

    // Act: a call with a withheld number, then its voicemail
    await sb.postTwilio('voice', 'voice-incoming', { From: WITHHELD, Caller: WITHHELD });
    const recording = await sb.postTwilio('voice/recording', 'recording-completed');
    await sb.drain();

    // Assess: recorded, never acknowledged (there is no number to answer)
    expect(recording.status).toBe(200);
    const [conversation] = await conversations(sb);
    expect(conversation?.contact.key).toMatch(/^anonymous:CA/);
    expect(await sb.outbox()).toEqual([]);
    expect(conversation?.ack).toMatchObject({ state: 'skipped', reason: 'anonymous-caller' });
  });

  // Found at stop 23.
  it('should never put two callers who withheld their number over SIP (sip:anonymous@anonymous.invalid) into one conversation', async () => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act: two strangers call through a SIP trunk with privacy on (RFC 3323's anonymous URI)
    for (const _ of [1, 2]) {
      const response = await sb.postTwilio('voice', 'voice-incoming', {
        CallSid: twilioSid('CA'),
        From: 'sip:anonymous@anonymous.invalid',
        Caller: 'sip:anonymous@anonymous.invalid',
      });
      expect(response.status).toBe(200);
      sb.clock.advance(60_000);
    }

    // Assess: like +266696687 or "Anonymous", each withheld call is a contact of its own
    const keys = (await conversations(sb)).map((c) => c.contact.key);
    expect(keys).toHaveLength(2);
    expect(keys).toEqual([expect.stringMatching(/^anonymous:CA/), expect.stringMatching(/^anonymous:CA/)]);
  });

  // Found at stop 23.
  it('should key a SIP caller by the number in its user part, and never text a SIP address (voiceSms "always")', async () => {
    // Prepare: the customer texted us from their mobile
    sb = await startTestSwitchboard({ business: withVoiceSms('always') });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, zadzwonię' });
    await sb.drain();
    sb.clock.advance(2 * 60 * 60_000);

    // Act: they call through their company's SIP trunk, which sends the number as the user part;
    // then a colleague calls from the PBX under a name
    await sb.postTwilio('voice', 'voice-incoming', {
      From: `sip:${MOBILE}@trunk.example.com;user=phone`,
      Caller: `sip:${MOBILE}@trunk.example.com;user=phone`,
    });
    await sb.postTwilio('voice', 'voice-incoming', {
      CallSid: twilioSid('CA'),
      From: 'sip:jan.kowalski@pbx.example.com',
      Caller: 'sip:jan.kowalski@pbx.example.com',
    });
    await sb.drain();

    // Assess: the first call joins the mobile's conversation, the second is a contact of its
    // own; neither gets an SMS (the greeting spoke the promise)
    const keys = (await conversations(sb)).map((c) => c.contact.key).sort();
    expect(keys).toEqual([`phone:${MOBILE}`, 'sip:jan.kowalski@pbx.example.com']);
    expect((await sb.outbox()).map((sent) => sent.to)).toEqual([MOBILE]);
  });

  // Found at stop 23: the reply went to the call's SIP URI, which no SMS reaches.
  it("should send an agent's reply to the customer's phone number, not to the SIP URI of the call that joined their SMS conversation", async () => {
    // Prepare: the customer texts from their mobile, then calls through their company's SIP
    // trunk, which gives the number as the user part: the call joins the mobile's conversation
    sb = await startTestSwitchboard();
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    sb.clock.advance(10 * 60_000);
    const call = await sb.postTwilio('voice', 'voice-incoming', {
      From: `sip:${MOBILE}@trunk.example.com;user=phone`,
      Caller: `sip:${MOBILE}@trunk.example.com;user=phone`,
    });
    expect(call.status).toBe(200);
    await sb.drain();
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.contact.key).toBe(`phone:${MOBILE}`);
    const before = (await sb.outbox()).length;
    sb.clock.advance(10 * 60_000);

    // Act: the agent answers on the conversation's channel
    const reply = await sb.act(`/conversations/${conversation.id}/replies`, {
      text: 'Dzień dobry, paczka już jedzie.',
    });

    // Assess: the reply SMS goes to a number Twilio can text (the one the SMS came from)
    expect(reply.status).toBe(201);
    const sent = (await sb.outbox()).slice(before);
    expect(sent.map((entry) => entry.to)).toEqual([MOBILE]);
  });

  it.each(['client:jan', 'sip:jan.kowalski@pbx.example.com'])(
    "should refuse an agent's reply to a caller %j who has no number to text (409 NO_ROUTE), sending nothing",
    async (From) => {
      // Prepare
      sb = await startTestSwitchboard();
      await sb.postTwilio('voice', 'voice-incoming', { From, Caller: From });
      await sb.drain();
      const conversation = await sb.onlyOpenConversation();
      const before = (await sb.outbox()).length;

      // Act
      const reply = await sb.act(`/conversations/${conversation.id}/replies`, { text: 'Oddzwonimy.' });

      // Assess
      expect(reply.status).toBe(409);
      expect(await reply.json()).toMatchObject({ error: { code: 'NO_ROUTE' } });
      expect((await sb.outbox()).slice(before)).toEqual([]);
    },
  );

  // Found at stop 24: the keypad placeholder (ANONYMOUS, RESTRICTED, UNKNOWN spelt on a phone's
  // keys) was the call's `from`, an E.164 look-alike, so the reply was texted to it: some are
  // dialable numbers of strangers (+86 282452253, +7 378 742 833).
  it.each(['+266696687', '+7378742833', '+86282452253'])(
    "should refuse an agent's reply to a caller who withheld their number (From %s), never texting the carrier's placeholder",
    async (placeholder) => {
      // Prepare: a caller with a withheld number (recorded as anonymous:<CallSid>)
      sb = await startTestSwitchboard();
      const call = await sb.postTwilio('voice', 'voice-incoming', { From: placeholder, Caller: placeholder });
      expect(call.status).toBe(200);
      await sb.drain();
      const conversation = await sb.onlyOpenConversation();
      expect(conversation.contact.key).toMatch(/^anonymous:CA/);
      const before = (await sb.outbox()).length;

      // Act: an agent answers the conversation, as for any other caller
      const reply = await sb.act(`/conversations/${conversation.id}/replies`, {
        text: 'Dzień dobry, oddzwaniamy w sprawie zamówienia 4471.',
      });

      // Assess: there is no number to answer (as for a SIP or Client caller: 409 NO_ROUTE), and
      // nothing goes to the placeholder, which is somebody else's number
      const sent = (await sb.outbox()).slice(before);
      expect(sent.map((entry) => entry.to)).toEqual([]);
      expect(reply.status).toBe(409);
      expect(await reply.json()).toMatchObject({ error: { code: 'NO_ROUTE' } });
    },
  );

  it('should not text a landline caller whose call joins an episode begun by a keyword (voiceSms "mobile")', async () => {
    // Prepare: a customer texts HELP from a landline (texting-enabled; recorded, not answered).
    // Until stop 25 this was a WhatsApp START, which became a question then (see below).
    sb = await startTestSwitchboard();
    await sb.postSms({ From: LANDLINE, Body: 'HELP' });
    await sb.drain();
    sb.clock.advance(60_000);

    // Act: the same person calls from that landline
    await sb.postTwilio('voice', 'voice-incoming', { From: LANDLINE, Caller: LANDLINE });
    await sb.drain();

    // Assess: a landline caller's ack is the spoken promise; no SMS goes to the landline
    const sms = (await sb.outbox()).filter((sent) => sent.channel === 'sms');
    expect(sms).toEqual([]);
  });

  // Found at stop 25, once a WhatsApp START from one who never opted out became a question: its
  // ack, still pending when the call joined, went by SMS to the landline (the route is the call's).
  it('should take the greeting for the ack of a WhatsApp question whose ack was still pending when the customer called from a landline', async () => {
    // Prepare: a WhatsApp Business user on a landline number writes START; its ack is queued
    sb = await startTestSwitchboard();
    await sb.postTwilio('messaging', 'whatsapp-profile', {
      From: `whatsapp:${LANDLINE}`,
      WaId: LANDLINE.slice(1),
      Body: 'START',
    });
    sb.clock.advance(60_000);

    // Act: the same person calls from that landline before the worker sends the ack
    await sb.postTwilio('voice', 'voice-incoming', { From: LANDLINE, Caller: LANDLINE });
    await sb.drain();

    // Assess: the greeting spoke the promise, and that is the ack; no SMS goes to the landline
    const sms = (await sb.outbox()).filter((sent) => sent.channel === 'sms');
    expect(sms).toEqual([]);
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.ack).toMatchObject({ state: 'sent', reason: 'spoken-on-call' });
  });

  // Found at stop 25 ("left alone"): the worker checked whether the call's number takes an SMS
  // (voiceSms) for an ack, never for a late notice, so a notice still pending when the customer
  // called from a landline was texted to the landline (the route is the call's).
  it('should not text a late notice to a landline the customer called from while it was pending', async () => {
    // Prepare: a WhatsApp Business user on a landline number asks on Wednesday 10:00 and is
    // acknowledged on WhatsApp; the late notice of Thursday 10:00 comes due and is queued
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postTwilio('messaging', 'whatsapp-profile', {
      From: `whatsapp:${LANDLINE}`,
      WaId: LANDLINE.slice(1),
      Body: 'Dzień dobry, kiedy przyjedzie kurier?',
    });
    await sb.drain();
    const acknowledged = await sb.onlyOpenConversation();
    expect(acknowledged.ack?.state).toBe('sent');
    sb.clock.set(new Date(Date.parse(acknowledged.replyBy as string) - 29 * MINUTE));
    expect((await sweep(sb.runtime.sweepDeps)).notices).toBe(1);

    // Act: the customer calls from that landline before the worker sends the notice
    await sb.postTwilio('voice', 'voice-incoming', { From: LANDLINE, Caller: LANDLINE });
    await sb.drain();

    // Assess: nothing by SMS to the landline (the greeting spoke the promise in force), and the
    // notice is settled as one that could not go, not left pending or marked sent
    const sms = (await sb.outbox()).filter((sent) => sent.channel === 'sms');
    expect(sms).toEqual([]);
    const called = await sb.onlyOpenConversation();
    expect(called.notice).toMatchObject({ state: 'skipped', reason: 'channel-cannot-send' });
    expect(called.replyBy).toBe(acknowledged.replyBy);
  });

  it('should not text a late notice to a caller when voiceSms is "never"', async () => {
    // Prepare: a mobile caller at Wednesday 10:00 is acknowledged by SMS (voiceSms "mobile");
    // a deploy then sets voiceSms to "never"
    sb = await startTestSwitchboard({ clock: new TestClock('2026-11-25T10:00:00+01:00') });
    await sb.postTwilio('voice', 'voice-incoming', { From: MOBILE, Caller: MOBILE });
    await sb.drain();
    const acknowledged = await sb.onlyOpenConversation();
    expect((await sb.outbox()).map((sent) => sent.channel)).toEqual(['sms']);
    const after = sb.redeploy(withVoiceSms('never'));

    // Act: the late notice comes due
    sb.clock.set(new Date(Date.parse(acknowledged.replyBy as string) - 29 * MINUTE));
    expect((await sweep(after.runtime.sweepDeps)).notices).toBe(1);
    await after.drain();

    // Assess: no further SMS
    expect(await after.outbox()).toHaveLength(1);
    expect((await after.onlyOpenConversation()).notice).toMatchObject({
      state: 'skipped',
      reason: 'channel-cannot-send',
    });
  });

  it('should not send an SMS ack to a caller when voiceSms is "never", even in an episode begun by HELP', async () => {
    // Prepare: HELP by SMS (recorded, not answered)
    sb = await startTestSwitchboard({ business: withVoiceSms('never') });
    await sb.postSms({ From: MOBILE, Body: 'HELP' });
    sb.clock.advance(60_000);

    // Act: the customer calls
    await sb.postTwilio('voice', 'voice-incoming');
    await sb.drain();

    // Assess: callers are never texted; the greeting's spoken promise is the ack
    expect(await sb.outbox()).toEqual([]);
  });

  it('should not acknowledge a message from our own number (From equals To)', async () => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act: a text from the business number to itself (a test, a forwarding loop, a spoofed sender)
    const response = await sb.postSms({ From: '+48221234567', To: '+48221234567', Body: 'test' });
    await sb.drain();

    // Assess: recorded, but no ack sent to ourselves
    expect(response.status).toBe(200);
    expect(await sb.outbox()).toEqual([]);
  });

  it('should thank an English caller in English after the voicemail, as it greeted them', async () => {
    // Prepare: the conversation is in English (the customer wrote in English)
    sb = await startTestSwitchboard();
    await sb.postSms({ From: MOBILE, Body: 'Hello, where is my parcel? Thanks' });

    // Act
    const greeting = await (await sb.postTwilio('voice', 'voice-incoming')).text();
    // Twilio posts to the action the greeting gave, whole (query included, and signed so).
    const action = /action="([^"]+)"/.exec(greeting)?.[1]?.replaceAll('&amp;', '&') ?? '';
    const route = action.slice(action.indexOf('/webhooks/twilio/') + '/webhooks/twilio/'.length);
    const thanks = await (await sb.postTwilio(route, 'record-action')).text();

    // Assess: the same language both times
    expect(greeting).toContain('language="en-GB"');
    expect(thanks).toContain('language="en-GB"');
  });
});

// Found at stop 24: a Twilio webhook the store could not take goes on the work queue, and the
// worker records it later with its receipt time, possibly after newer events (an agent's
// reply, the customer's next message, a STOP). Recorded late, it must not count as answered by
// a reply nobody wrote to it, nor move the reply route or the customer's consent back in time.
describe('a Twilio webhook the worker recorded later', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb.stop();
  });

  /** The store refuses the message's put once: the webhook's events go on the work queue. */
  function refuseNextMessagePut() {
    return injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: pkStartsWith('MSG#'),
    });
  }

  it('should leave a queued message waiting for an answer when an agent replied, unaware of it, before the worker recorded it', async () => {
    // Prepare: a customer's question, acknowledged; a follow-up the store could not take
    // (queued for the worker, which meets the same outage on its first tries).
    sb = await startTestSwitchboard();
    await sb.postSms({ MessageSid: twilioSid('SM'), From: MOBILE, Body: 'Dzień dobry, gdzie moja paczka?' });
    await sb.drain();
    const conversation = await sb.onlyOpenConversation();
    sb.clock.advance(2 * MINUTE);
    const fault = refuseNextMessagePut();
    const followUp = await sb.postSms({
      MessageSid: twilioSid('SM'),
      From: MOBILE,
      Body: 'I jeszcze jedno: proszę o zmianę adresu dostawy na ul. Polną 5.',
    });
    fault.remove();

    // Act: an agent answers the first question (the follow-up is not stored, nobody can see
    // it), then the worker records the follow-up once the store is back.
    sb.clock.advance(3 * MINUTE);
    const reply = await sb.act(`/conversations/${conversation.id}/replies`, {
      text: 'Paczka jest w drodze, dotrze jutro.',
    });
    sb.clock.advance(3 * MINUTE);
    await sb.drain();

    // Assess: the follow-up is stored, but nobody answered it: the customer still waits for
    // us (a waiting episode, listed as awaiting), not counted as answered by a reply that was
    // written before anyone could read it.
    expect(fault.fired).toBe(1);
    expect(followUp.status).toBe(200);
    expect(reply.status).toBe(201);
    const messages = await sb.runtime.store.listMessages(conversation.id, { limit: 100 });
    expect(messages.filter((m) => m.direction === 'inbound')).toHaveLength(2);
    const after = await sb.runtime.store.getConversation(conversation.id);
    expect(after?.awaitingSince).not.toBeNull();
    // (its promise counts from when the customer wrote, not from when it was recorded)
    const stored = messages.find((m) => m.direction === 'inbound' && m.text.startsWith('I jeszcze'));
    expect(after?.awaitingSince).toBe(stored?.createdAt);
    expect(after?.replyBy).not.toBeNull();
  });

  it('should answer on the channel the customer wrote on last, not on that of an older message the worker recorded later', async () => {
    // Prepare: a customer writes on WhatsApp (the store could not take it: queued), then, two
    // minutes later, by SMS from the same phone (stored at once)
    sb = await startTestSwitchboard();
    const fault = refuseNextMessagePut();
    const whatsapp = await sb.postTwilio('messaging', 'whatsapp-profile', {
      MessageSid: twilioSid('SM'),
      Body: 'Kiedy otwieracie sklep w sobotę?',
    });
    fault.remove();
    sb.clock.advance(2 * MINUTE);
    await sb.postSms({
      MessageSid: twilioSid('SM'),
      From: MOBILE,
      Body: 'Piszę jeszcze SMS-em: kiedy otwieracie?',
    });

    // Act: the worker records the WhatsApp message; then an agent answers
    sb.clock.advance(2 * MINUTE);
    await sb.drain();
    const conversation = await sb.onlyOpenConversation();
    const sentBefore = (await sb.outbox()).length;
    const reply = await sb.act(`/conversations/${conversation.id}/replies`, { text: 'Otwieramy o 9:00.' });

    // Assess: the reply goes where the customer wrote last (SMS), as replies do
    expect(fault.fired).toBe(1);
    expect(whatsapp.status).toBe(200);
    expect(reply.status).toBe(201);
    const sent = (await sb.outbox()).slice(sentBefore);
    expect(sent.map((m) => m.channel)).toEqual(['sms']);
    expect(conversation.channel).toBe('sms');
  });

  it('should not let a queued START recorded late undo the STOP the customer sent after it (no ack to an opted-out number)', async () => {
    // Prepare: a customer opted out, then wrote START (the store could not take it: queued),
    // then STOP again a minute later (stored at once).
    sb = await startTestSwitchboard();
    await sb.postSms({ MessageSid: twilioSid('SM'), From: MOBILE, Body: 'STOP' });
    await sb.drain();
    sb.clock.advance(MINUTE);
    const fault = injectFault(sb.backends.dynamodb, {
      command: 'UpdateItemCommand',
      when: 'before',
      match: pkStartsWith('CONTACT#'),
    });
    const start = await sb.postSms({ MessageSid: twilioSid('SM'), From: MOBILE, Body: 'START' });
    fault.remove();
    sb.clock.advance(MINUTE);
    await sb.postSms({ MessageSid: twilioSid('SM'), From: MOBILE, Body: 'STOP' });

    // Act: the worker records the queued START; later the customer writes once more
    sb.clock.advance(MINUTE);
    await sb.drain();
    const sentBefore = (await sb.outbox()).length;
    sb.clock.advance(60 * MINUTE);
    await sb.postSms({ MessageSid: twilioSid('SM'), From: MOBILE, Body: 'Czy mogę zapytać o fakturę?' });
    await sb.drain();

    // Assess: the customer's latest word was STOP: they stay opted out, and nothing is texted
    // to them.
    expect(fault.fired).toBe(1);
    expect(start.status).toBe(200);
    expect((await sb.outbox()).slice(sentBefore)).toEqual([]);
    const contact = await sb.runtime.store.getContact(`phone:${MOBILE}`);
    expect(contact?.optedOut).toBe(true);
  });

  // Found by a review of this stop's last fixes: consent was placed at the retry's receipt time.
  it("should not opt a number back out when Twilio retries a STOP the customer has since undone with START (consent placed by the STOP's receipt, not the retry's)", async () => {
    // Prepare: STOP, then START a minute later; both recorded.
    sb = await startTestSwitchboard();
    const stopSid = twilioSid('SM');
    await sb.postSms({ MessageSid: stopSid, From: MOBILE, Body: 'STOP' });
    await sb.drain();
    sb.clock.advance(MINUTE);
    await sb.postSms({ MessageSid: twilioSid('SM'), From: MOBILE, Body: 'START' });
    await sb.drain();
    expect((await sb.runtime.store.getContact(`phone:${MOBILE}`))?.optedOut).toBe(false);

    // Act: Twilio delivers the first STOP again (its ordinary retry: same MessageSid)
    sb.clock.advance(MINUTE);
    const retry = await sb.postSms({ MessageSid: stopSid, From: MOBILE, Body: 'STOP' });
    await sb.drain();

    // Assess: the customer's latest word is still START: the contact stays opted in, and the
    // conversation and the contact agree.
    expect(retry.status).toBe(200);
    const conversation = await sb.onlyOpenConversation();
    expect(conversation.optedOut).toBe(false);
    const contact = await sb.runtime.store.getContact(`phone:${MOBILE}`);
    expect(contact?.optedOut).toBe(false);
  });

  it('should not resolve with seenUntil a message the worker recorded after what the agent saw, though received before it', async () => {
    // Prepare (found at stop 25): a customer waits; a second SMS of theirs comes while the store
    // cannot take it, so it goes on the work queue. The agent replies to the first, reads the
    // conversation (newest message: the reply) and resolves with that as seenUntil. Meanwhile
    // the worker records the second message, placed at its receipt time (before the reply) and
    // opening the next waiting episode. The resolve compared seenUntil with receipt times only.
    sb = await startTestSwitchboard();
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie jest moja paczka?' });
    await sb.drain();
    const id = (await sb.onlyOpenConversation()).id;
    sb.clock.advance(10 * MINUTE);
    const fault = refuseNextMessagePut();
    const during = await sb.postSms({
      MessageSid: twilioSid('SM'),
      From: MOBILE,
      Body: 'I jeszcze jedno: zmieniam adres dostawy!',
    });
    fault.remove();
    sb.clock.advance(2 * MINUTE);
    const reply = await sb.act(`/conversations/${id}/replies`, { text: 'Paczka wyszła dziś rano.' });
    const seen = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      messages: Array<{ text: string; createdAt: string }>;
    };
    const seenUntil = seen.messages
      .map((message) => message.createdAt)
      .sort()
      .at(-1) as string;
    sb.clock.advance(MINUTE);
    await sb.drain();
    const waiting = (await (await sb.api('/api/conversations?awaiting=true')).json()) as {
      items: Array<{ id: string }>;
    };

    // Act
    sb.clock.advance(MINUTE);
    const resolved = await sb.act(`/conversations/${id}/resolve`, { seenUntil });

    // Assess: the message nobody read keeps the conversation open (409 CUSTOMER_WROTE); once
    // read, its recordedAt as seenUntil resolves it
    expect([during.status, reply.status]).toEqual([200, 201]);
    expect(seen.messages.map((message) => message.text)).not.toContain(
      'I jeszcze jedno: zmieniam adres dostawy!',
    );
    expect(waiting.items.map((item) => item.id)).toEqual([id]);
    expect(resolved.status).toBe(409);
    expect(((await resolved.json()) as { error: { code: string } }).error.code).toBe('CUSTOMER_WROTE');
    expect((await sb.runtime.store.getConversation(id))?.status).toBe('open');
    const reread = (await (await sb.api(`/api/conversations/${id}`)).json()) as {
      messages: Array<{ createdAt: string; recordedAt?: string }>;
    };
    const readable = reread.messages
      .map((message) => message.recordedAt ?? message.createdAt)
      .sort()
      .at(-1) as string;
    const again = await sb.act(`/conversations/${id}/resolve`, { seenUntil: readable });
    expect(again.status).toBe(200);
  });
});

// Twilio signs with the account's primary auth token until a secondary is promoted, then with
// the new one at once, and never posts a refused webhook again. Found at stop 25: only
// TWILIO_AUTH_TOKEN was checked, so the deployment refused one side of the promotion (before it
// if it held the new token, after it until every function was touched if it held the old).
describe('rotating the Twilio auth token', () => {
  let sb: TestSwitchboard | undefined;

  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
  });

  it('should accept the webhooks Twilio signs on both sides of promoting the secondary token', async () => {
    // Prepare: the secret carries the secondary while the token is rotated (docs/deploy.md)
    const secondary = 'abcdefabcdefabcdefabcdefabcdef12';
    sb = await startTestSwitchboard({ env: { TWILIO_AUTH_TOKEN_SECONDARY: secondary } });
    const path = '/webhooks/twilio/messaging';
    const post = (token: string, from: string) => {
      const { body, headers } = signTwilio(
        `${TEST_PUBLIC_URL}${path}`,
        twilioForm('sms-polish', { From: from }),
        token,
      );
      return (sb as TestSwitchboard).runtime.app.request(path, { method: 'POST', headers, body });
    };

    // Act: one message just before the promotion, one just after
    const before = await post(TEST_AUTH_TOKEN, '+48601000001');
    const after = await post(secondary, '+48601000002');

    // Assess: both customers' messages are recorded
    expect([before.status, after.status]).toEqual([200, 200]);
    expect((await conversations(sb)).map((c) => c.contact.key).sort()).toEqual([
      'phone:+48601000001',
      'phone:+48601000002',
    ]);
  });
});

// `-c domainName=…` added to a running stack makes PUBLIC_URL the custom domain; its DNS record
// is created after the deploy, so until it resolves and every Twilio number is edited, Twilio
// keeps calling the API's own endpoint (which still serves the function) and signs that URL.
// Found at stop 25: only PUBLIC_URL + path was checked, so every such webhook got a 403, which
// Twilio never retries.
describe('giving a running deployment its custom domain', () => {
  let sb: TestSwitchboard | undefined;

  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
  });

  it('should accept a Twilio webhook signed for the API endpoint Twilio still calls when PUBLIC_URL became the new domain', async () => {
    // Prepare
    sb = await startTestSwitchboard();
    expect(sb.config.publicUrl).toBe(TEST_PUBLIC_URL);
    const called = 'https://a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com/webhooks/twilio/messaging';
    const { body, headers } = signTwilio(
      called,
      twilioForm('sms-polish', { From: '+48601000003' }),
      TEST_AUTH_TOKEN,
    );

    // Act: the request as API Gateway hands it to the function (its host is the one called)
    const response = await sb.runtime.app.request(called, { method: 'POST', headers, body });

    // Assess: a request Twilio signed, with our token, for the URL it really called
    expect(response.status).toBe(200);
    expect((await conversations(sb)).map((c) => c.contact.key)).toEqual(['phone:+48601000003']);
  });
});

// Found at stop 25: a late notice refused after it was marked sent put back the promise before
// it, even when the customer had since called and heard the notice's new time in the greeting.
describe('a late notice refused after a call spoke its time', () => {
  let sb: TestSwitchboard;
  let twilio: FakeTwilio | undefined;

  afterEach(async () => {
    await sb.stop();
    await twilio?.close();
    twilio = undefined;
  });

  type ApiMessage = { kind: string; providerMessageId: string | null };

  it('should keep the new time a caller heard in the greeting when the SMS notice that stated it is reported undelivered afterwards', async () => {
    // Prepare: an SMS question on Wednesday 10:00, acknowledged; the late notice goes by SMS
    // half an hour before the promise, stating a new time (T2)
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio, {
      clock: new TestClock('2026-11-25T10:00:00+01:00'),
    });
    await sb.postSms({ From: MOBILE, Body: 'Dzień dobry, gdzie paczka?' });
    await sb.drain();
    const acknowledged = await sb.onlyOpenConversation();
    sb.clock.set(new Date(Date.parse(acknowledged.replyBy as string) - 29 * MINUTE));
    await sweep(sb.runtime.sweepDeps);
    await sb.drain();
    const noticed = await sb.onlyOpenConversation();
    expect(noticed.notice).toMatchObject({ state: 'sent' });
    const stated = noticed.replyBy as string;
    expect(stated).not.toBe(acknowledged.replyBy);
    const { messages } = (await (await sb.api(`/api/conversations/${noticed.id}`)).json()) as {
      messages: ApiMessage[];
    };
    const notice = messages.find((m) => m.kind === 'notice');
    // The customer calls meanwhile: the greeting speaks the promise in force, the new time
    sb.clock.advance(2 * MINUTE);
    const call = await sb.postTwilio('voice', 'voice-incoming', { From: MOBILE, Caller: MOBILE });
    expect(call.status).toBe(200);
    const greeting = await call.text();
    expect(greeting).toContain('jutro do 9:30');
    const afterCall = await sb.onlyOpenConversation();
    expect(afterCall.replyBy).toBe(stated);

    // Act: the carrier's late verdict on the SMS notice
    sb.clock.advance(MINUTE);
    const status = await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: notice?.providerMessageId as string,
    });

    // Assess: the customer last heard the new time (spoken on the call): it stays in force,
    // and no breach comes at the earlier time they were told to forget
    expect(status.status).toBe(200);
    const after = await sb.onlyOpenConversation();
    expect(after.notice).toMatchObject({ state: 'failed' });
    expect(after.replyBy).toBe(stated);
  });
});
