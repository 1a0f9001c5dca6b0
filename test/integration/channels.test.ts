import { afterEach, describe, expect, it } from 'vitest';
import { formatReplyBy } from '#lib/domain/texts/index.ts';
import { type FakeTwilio, startFakeTwilio } from '#test/support/fake-twilio.ts';
import { afterCall, injectFault, pkStartsWith } from '#test/support/faults.ts';
import {
  inboxReplyFixture,
  metaFixture,
  metaFixtureBody,
  PSID,
  whatsappEnvelope,
} from '#test/support/meta-factory.ts';
import { undeliveredBeforeAlias } from '#test/support/races.ts';
import { STACK_TRACE } from '#test/support/silent-log.ts';
import {
  startTestSwitchboard,
  startTestSwitchboardThroughTwilio,
  TEST_META_APP_ID,
  TEST_META_VERIFY_TOKEN,
  type TestSwitchboard,
} from '#test/support/switchboard.ts';
import { twilioSid } from '#test/support/twilio-factory.ts';

type ApiConversation = {
  id: string;
  contact: { key: string; name?: string; channels: string[] };
  channel: string;
  ack: { state: string; reason?: string } | null;
  firstReplyAt?: string;
};
type ApiMessage = {
  id: string;
  direction: string;
  kind: string;
  channel: string;
  text: string;
  createdAt: string;
  media: Array<{ url: string }>;
  providerMessageId: string | null;
  delivery?: { status: string; errorCode?: string };
};

async function conversations(sb: TestSwitchboard): Promise<ApiConversation[]> {
  return ((await (await sb.api('/api/conversations?limit=100')).json()) as { items: ApiConversation[] })
    .items;
}

async function messagesOf(sb: TestSwitchboard, id: string): Promise<ApiMessage[]> {
  return ((await (await sb.api(`/api/conversations/${id}`)).json()) as { messages: ApiMessage[] }).messages;
}

function whatsappCloud(from: string, text: string, id = `wamid.${twilioSid('')}`) {
  const payload = metaFixture('whatsapp-text') as {
    entry: Array<{
      changes: Array<{
        value: { contacts: Array<{ wa_id: string }>; messages: Array<Record<string, unknown>> };
      }>;
    }>;
  };
  const value = payload.entry[0]?.changes[0]?.value;
  if (!value) throw new Error('fixture shape');
  value.contacts[0] = { ...value.contacts[0], wa_id: from };
  value.messages[0] = { ...value.messages[0], from, id, text: { body: text } };
  return payload;
}

describe('every channel through the same store and worker', () => {
  let sb: TestSwitchboard;
  let twilio: FakeTwilio | undefined;

  afterEach(async () => {
    await sb.stop();
    await twilio?.close();
    twilio = undefined;
  });

  it('should greet a caller with the promise, record the voicemail and its transcription, and text the ack to a mobile', async () => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act
    const call = await sb.postTwilio('voice', 'voice-incoming');
    const twiml = await call.text();
    const recording = await sb.postTwilio('voice/recording', 'recording-completed');
    const transcription = await sb.postTwilio('voice/transcription', 'transcription-completed', {
      RecordingSid: 'RE8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d',
      CallSid: 'CA5c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f',
    });
    const recorded = await sb.postTwilio('voice/recorded', 'record-action');
    await sb.drain();

    // Assess
    expect(call.status).toBe(200);
    expect(twiml).toContain('<Say language="pl-PL"');
    expect(twiml).toMatch(/oddzwoni najpóźniej (dziś|jutro|w \S+) do \d\d:\d\d/);
    expect(twiml).toContain('<Record');
    expect(twiml).toContain('https://switchboard.example.com/webhooks/twilio/voice/recording');
    expect([recording.status, transcription.status, recorded.status]).toEqual([200, 200, 200]);
    expect(await recorded.text()).not.toContain('<Record');
    const [conversation, ...others] = await conversations(sb);
    expect(others).toHaveLength(0);
    expect(conversation?.contact.key).toBe('phone:+48601234567');
    const messages = await messagesOf(sb, conversation?.id as string);
    expect(messages.map((m) => `${m.direction}:${m.kind}:${m.channel}`)).toEqual([
      'inbound:call:voice',
      'inbound:voicemail:voice',
      'outbound:ack:sms',
    ]);
    expect(messages[1]?.text).toContain('order 4471');
    expect(messages[1]?.media[0]?.url).toMatch(/\.mp3$/);
    const outbox = await sb.outbox();
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ channel: 'sms', to: '+48601234567', from: '+48221234567' });
  });

  // Stop 24: this was a 503 with Retry-After, but Twilio does not post a callback again after
  // a 5xx by default: the voicemail would have been lost. It is queued for the worker instead.
  it('should queue a recording callback for a call it has not stored, and record it once the call is', async () => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act: the recording's callback first (the call's webhook failed, say), then the call, then
    // the worker; a retry Twilio may send as well (connection overrides) changes nothing.
    const early = await sb.postTwilio('voice/recording', 'recording-completed');
    const before = await conversations(sb);
    await sb.postTwilio('voice', 'voice-incoming');
    await sb.drain();
    const retry = await sb.postTwilio('voice/recording', 'recording-completed');
    await sb.drain();

    // Assess: Twilio gets its 200, nothing is stored before the call, no stack or error line;
    // the voicemail is recorded once.
    expect(early.status).toBe(200);
    expect(before).toHaveLength(0);
    expect(sb.log.lines.filter((line) => line.level === 'error')).toHaveLength(0);
    expect(sb.log.lines.some((line) => line.message.includes('queued for the worker'))).toBe(true);
    expect(JSON.stringify(sb.log.lines)).not.toMatch(STACK_TRACE);
    expect(retry.status).toBe(200);
    const [conversation] = await conversations(sb);
    const kinds = (await messagesOf(sb, conversation?.id as string)).map((m) => m.kind);
    expect(kinds.filter((kind) => kind === 'voicemail')).toHaveLength(1);
  });

  // Stop 24, a review of voice: a 5xx on a call's webhook plays Twilio's "an application error
  // has occurred" and hangs up, and Twilio never posts the call again.
  it('should still greet a caller with the promise and take a message when the store refuses the call, and record the call later', async () => {
    // Prepare: the store refuses the call's message for the length of this request
    sb = await startTestSwitchboard();
    const outage = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: pkStartsWith('MSG#'),
    });

    // Act: a customer calls; the worker runs a minute later
    const call = await sb.postTwilio('voice', 'voice-incoming');
    const greeting = await call.text();
    sb.clock.advance(60_000);
    await sb.drain();

    // Assess: the greeting with its promise and the beep, not Twilio's error message; the call
    // recorded once, at the time it came, holding the promise the caller heard
    expect(outage.fired).toBe(1);
    expect(call.status).toBe(200);
    expect(greeting).toContain('<Say');
    expect(greeting).toContain('<Record');
    const [conversation] = await conversations(sb);
    const calls = (await messagesOf(sb, conversation?.id as string)).filter((m) => m.kind === 'call');
    expect(calls).toHaveLength(1);
    expect(Date.parse(calls[0]?.createdAt as string)).toBe(sb.clock.now().getTime() - 60_000);
    const stored = await sb.onlyOpenConversation();
    const promised = formatReplyBy(stored.locale, {
      now: new Date(sb.clock.now().getTime() - 60_000),
      replyBy: stored.promise?.replyBy as string,
      timeZone: sb.config.business.timeZone,
    });
    expect(greeting).toContain(promised);
  });

  it('should fill the voicemail text when the transcription arrives before the recording', async () => {
    // Prepare
    sb = await startTestSwitchboard();
    await sb.postTwilio('voice', 'voice-incoming');

    // Act
    await sb.postTwilio('voice/transcription', 'transcription-completed', {
      RecordingSid: 'RE8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d',
    });
    await sb.postTwilio('voice/recording', 'recording-completed');

    // Assess
    const [conversation] = await conversations(sb);
    const voicemail = (await messagesOf(sb, conversation?.id as string)).find((m) => m.kind === 'voicemail');
    expect(voicemail?.text).toContain('order 4471');
  });

  it("should pick up the early transcription on Twilio's retry when the recording's first delivery died before it", async () => {
    // Prepare: the call, then its transcription before its recording; the recording's first
    // delivery dies right before it copies the transcription onto the voicemail
    sb = await startTestSwitchboard();
    await sb.postTwilio('voice', 'voice-incoming');
    await sb.postTwilio('voice/transcription', 'transcription-completed', {
      RecordingSid: 'RE8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d',
    });
    const crash = injectFault(sb.backends.dynamodb, {
      command: 'UpdateItemCommand',
      when: 'before',
      match: (input) => pkStartsWith('MSG#')(input) && String(input.UpdateExpression).startsWith('SET #text'),
    });

    // Act
    const died = await sb.postTwilio('voice/recording', 'recording-completed');
    const retried = await sb.postTwilio('voice/recording', 'recording-completed');

    // Assess
    expect(crash.fired).toBe(1);
    // Queued for the worker (stop 24): Twilio gets 200 either way.
    expect([died.status, retried.status]).toEqual([200, 200]);
    const [conversation] = await conversations(sb);
    const voicemail = (await messagesOf(sb, conversation?.id as string)).find((m) => m.kind === 'voicemail');
    expect(voicemail?.text).toContain('order 4471');
  });

  it('should speak the promise as the only acknowledgement to a landline caller', async () => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act
    await sb.postTwilio('voice', 'voice-incoming', { From: '+48221112233', Caller: '+48221112233' });
    await sb.drain();

    // Assess
    const [conversation] = await conversations(sb);
    expect(conversation?.ack).toMatchObject({ state: 'sent', reason: 'spoken-on-call' });
    expect(await sb.outbox()).toHaveLength(0);
  });

  it('should merge SMS, WhatsApp Cloud and a call from one number into one conversation with one ack', async () => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry' });
    await sb.postMeta(whatsappCloud('48601234567', 'Piszę też na WhatsAppie'));
    await sb.postTwilio('voice', 'voice-incoming');
    await sb.drain();

    // Assess
    const all = await conversations(sb);
    expect(all).toHaveLength(1);
    expect(all[0]?.contact).toMatchObject({ key: 'phone:+48601234567', name: 'Ewa Kowalska' });
    expect(all[0]?.contact.channels.sort()).toEqual(['sms', 'voice', 'whatsapp']);
    expect(await sb.outbox()).toHaveLength(1);
  });

  // Found at stop 23: WhatsApp names some Mexican and Brazilian mobiles in a form older than
  // the numbering plan their SMS comes from.
  it('should put a Mexican customer’s SMS and WhatsApp (From whatsapp:+521…, WhatsApp’s id for +52 mobiles) into one conversation', async () => {
    // Prepare: the customer texts from +52 55 1234 5678
    sb = await startTestSwitchboard();
    await sb.postSms({ From: '+525512345678', Body: 'Hola, ¿dónde está mi pedido?' });
    sb.clock.advance(60_000);

    // Act: the same phone on WhatsApp, which Twilio (and Meta) give as +521 55 1234 5678
    await sb.postTwilio('messaging', 'whatsapp-profile', {
      From: 'whatsapp:+5215512345678',
      WaId: '5215512345678',
      Body: 'Te escribo también por WhatsApp',
    });

    // Assess: one person, one conversation
    const all = await conversations(sb);
    expect(all.map((c) => c.contact.key)).toEqual(['phone:+525512345678']);
    expect(all[0]?.contact.channels).toEqual(expect.arrayContaining(['sms', 'whatsapp']));
  });

  // Found at stop 33: a location shared on WhatsApp through Twilio comes with an empty Body and the
  // pin in Latitude, Longitude, Label and Address: it was recorded as an empty message, the agent
  // seeing nothing, where the Cloud API's same location reads "📍 lat,long name".
  it('should record a WhatsApp location shared through Twilio as text an agent can read, as the Cloud API does', async () => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act
    const response = await sb.postTwilio('messaging', 'whatsapp-profile', {
      Body: '',
      MessageType: 'location',
      Latitude: '52.2296756',
      Longitude: '21.0122287',
      Label: 'Biuro',
      Address: 'Marszałkowska 1, Warszawa',
    });

    // Assess: the pin, its name and address; acknowledged as any question
    expect(response.status).toBe(200);
    const [conversation] = await conversations(sb);
    const [message] = await messagesOf(sb, conversation?.id as string);
    expect(message?.text).toBe('📍 52.2296756,21.0122287 Biuro, Marszałkowska 1, Warszawa');
  });

  it('should put a Brazilian customer’s SMS and WhatsApp Cloud message (wa_id without the ninth digit) into one conversation', async () => {
    // Prepare: the customer texts from +55 11 98765-4321
    sb = await startTestSwitchboard();
    await sb.postSms({ From: '+5511987654321', Body: 'Olá, cadê meu pedido?' });
    sb.clock.advance(60_000);

    // Act: the same phone on WhatsApp, an account whose wa_id predates the ninth digit
    await sb.postMeta(whatsappCloud('551187654321', 'Oi, pelo WhatsApp', 'wamid.BR0000000001'));

    // Assess
    const all = await conversations(sb);
    expect(all.map((c) => c.contact.key)).toEqual(['phone:+5511987654321']);
    expect(all[0]?.contact.channels).toEqual(expect.arrayContaining(['sms', 'whatsapp']));
  });

  it('should record STOP without answering, skip acks while opted out, and answer again after START', async () => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act
    await sb.postTwilio('messaging', 'whatsapp-stop');
    await sb.drain();
    const afterStop = (await conversations(sb))[0];
    await sb.postTwilio('messaging', 'sms-start', { From: '+48601234567' });
    await sb.drain();

    // Assess
    expect(afterStop?.ack).toMatchObject({ state: 'skipped', reason: 'keyword:stop' });
    expect(await sb.outbox()).toHaveLength(0);
    const contact = await sb.runtime.store.getContact('phone:+48601234567');
    expect(contact?.optedOut).toBe(false);
  });

  it('should not send an acknowledgement still pending when the customer sent STOP', async () => {
    // Prepare: a question, then STOP before the worker got to the acknowledgement
    sb = await startTestSwitchboard();
    await sb.postSms({ From: '+48601234567', Body: 'Dzień dobry, gdzie paczka?' });
    sb.clock.advance(10_000);
    await sb.postSms({ From: '+48601234567', Body: 'STOP' });

    // Act
    await sb.drain();

    // Assess: nothing sent; the acknowledgement skipped for the STOP, announced as such
    expect(await sb.outbox()).toHaveLength(0);
    expect((await conversations(sb))[0]?.ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });
    const skipped = (await sb.events()).filter((event) => event.type === 'ack.skipped');
    expect(skipped.map((event) => event.data.reason)).toEqual(['opted-out']);
  });

  // Found at stop 33: Twilio reads only its English words, exactly; a Polish customer's SMS "Wypisz
  // mnie" or a "Stop." was a question: acknowledged, then a late notice, to someone who asked us to stop.
  it.each([
    ['Wypisz mnie', '+48601234561'],
    ['wypisuję się.', '+48601234562'],
    ['Stop.', '+48601234563'],
  ])('should take an SMS %j as STOP, as on WhatsApp: no ack, the number opted out', async (body, from) => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act
    await sb.postSms({ From: from, Body: body });
    await sb.drain();

    // Assess
    expect(await sb.outbox()).toEqual([]);
    expect((await conversations(sb))[0]?.ack?.state).toBe('skipped');
    expect((await sb.runtime.store.getContact(`phone:${from}`))?.optedOut).toBe(true);
  });

  it('should skip the acknowledgement of a new episode for an opted-out contact', async () => {
    // Prepare: STOP, then an agent reply ends the episode, then a new question.
    sb = await startTestSwitchboard();
    await sb.postTwilio('messaging', 'whatsapp-stop');
    const { applyReply } = await import('#lib/domain/conversation.ts');
    const { replyContext, updateConversation } = await import('#lib/use-cases/conversation-writes.ts');
    const [first] = await conversations(sb);
    sb.clock.advance(60_000);
    await updateConversation(sb.runtime.store, first?.id as string, (c) =>
      applyReply(c, sb.clock.now(), replyContext(sb.config.business)),
    );
    sb.clock.advance(60_000);

    // Act
    await sb.postSms({ From: '+48601234567', Body: 'Jeszcze jedno pytanie' });
    await sb.drain();

    // Assess
    expect((await conversations(sb))[0]?.ack).toMatchObject({ state: 'skipped', reason: 'opted-out' });
    expect(await sb.outbox()).toHaveLength(0);
  });

  // Found at stop 24: only Twilio's normalizer read keywords, so a STOP on WhatsApp Cloud (where
  // no provider handles it for us) was acknowledged and opted nothing out.
  it('should not acknowledge a WhatsApp Cloud STOP, and opt the number out, as it does for the same STOP through Twilio', async () => {
    // Prepare: the same customer's STOP on WhatsApp through Twilio is recorded, never
    // answered, and opts the number out; WhatsApp's policy asks us to honour it on the Cloud API
    sb = await startTestSwitchboard();

    // Act
    const response = await sb.postMeta(whatsappCloud('48601234567', 'STOP', 'wamid.stop0001'));
    await sb.drain();
    // The same person writes again later, by SMS
    sb.clock.advance(3 * 60 * 60_000);
    await sb.postSms({ From: '+48601234567', Body: 'Jeszcze jedno' });
    await sb.drain();

    // Assess: nothing was sent to a number that said STOP
    expect(response.status).toBe(200);
    const [conversation] = await conversations(sb);
    expect(conversation?.ack?.state).toBe('skipped');
    expect(await sb.outbox()).toEqual([]);
    expect((await sb.runtime.store.getContact('phone:+48601234567'))?.optedOut).toBe(true);
  });

  // Found at stop 33: people type "Stop." or "STOP!" as they type any sentence; on WhatsApp nobody
  // else reads keywords, so ours answered it with an ack and kept texting a customer who asked us to stop.
  it.each([
    ['Stop.', '48601234567'],
    ['STOP!!!', '48601234568'],
    ['Wypisz mnie!', '48601234569'],
  ])('should take a WhatsApp %j as STOP: no ack, the number opted out', async (text, from) => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act
    const response = await sb.postMeta(whatsappCloud(from, text));
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    const [conversation] = await conversations(sb);
    expect(conversation?.ack?.state).toBe('skipped');
    expect(await sb.outbox()).toEqual([]);
    expect((await sb.runtime.store.getContact(`phone:+${from}`))?.optedOut).toBe(true);
  });

  // Found at stop 33: opting back in was English only; a Polish customer's "Wznów" (resume) after
  // "Wypisz mnie" was a message from an opted-out number, and their waiting question never heard back.
  it('should take a WhatsApp "Wznów" after "Wypisz mnie" as START: opted in, the waiting question acknowledged once', async () => {
    // Prepare: "Wypisz mnie", then a question while opted out (no ack)
    sb = await startTestSwitchboard();
    await sb.postMeta(whatsappCloud('48601234570', 'Wypisz mnie'));
    await sb.drain();
    await sb.postMeta(whatsappCloud('48601234570', 'Gdzie jest moja paczka?'));
    await sb.drain();
    expect(await sb.outbox()).toEqual([]);

    // Act
    const response = await sb.postMeta(whatsappCloud('48601234570', 'Wznów'));
    await sb.drain();

    // Assess
    expect(response.status).toBe(200);
    expect((await sb.runtime.store.getContact('phone:+48601234570'))?.optedOut).toBe(false);
    expect(await sb.outbox()).toHaveLength(1);
    expect((await conversations(sb))[0]?.ack?.state).toBe('sent');
  });

  // Found at stop 33: Meta's "Edit messages webhook reference": a customer who edits a message
  // (within 15 minutes) or deletes it sends `type: edit` (the new content under `edit.message`) or
  // `type: revoke`. Both were recorded as new, empty messages: after our reply, an ack promising an
  // answer to nothing, and the agent never saw what the edit said.
  it('should record a WhatsApp Cloud edit as its new text, with no ack, and ignore a deletion', async () => {
    // Prepare: a customer's question, acknowledged, then answered by an agent
    sb = await startTestSwitchboard();
    await sb.postMeta(whatsappCloud('48601234567', 'Gdzie jest paczka 1234?', 'wamid.Q0000000001'));
    await sb.drain();
    const [asked] = await conversations(sb);
    expect((await sb.act(`/conversations/${asked?.id}/replies`, { text: 'Już sprawdzam.' })).status).toBe(
      201,
    );
    // (past the quiet time after a reply: a new question now would be acknowledged)
    sb.clock.advance(30 * 60_000);

    // Act: the customer corrects the order number, then deletes a message
    const edited = whatsappCloud('48601234567', '', 'wamid.E0000000001');
    const revoked = whatsappCloud('48601234567', '', 'wamid.R0000000001');
    const [editValue, revokeValue] = [edited, revoked].map((payload) => payload.entry[0]?.changes[0]?.value);
    const { text: _editText, ...editMessage } = editValue?.messages[0] ?? {};
    const { text: _revokeText, ...revokeMessage } = revokeValue?.messages[0] ?? {};
    if (editValue)
      editValue.messages[0] = {
        ...editMessage,
        type: 'edit',
        edit: {
          original_message_id: 'wamid.Q0000000001',
          message: { type: 'text', text: { body: 'Gdzie jest paczka 1243?' } },
        },
      };
    if (revokeValue)
      revokeValue.messages[0] = {
        ...revokeMessage,
        type: 'revoke',
        revoke: { original_message_id: 'wamid.Q0000000001' },
      };
    const answers = [await sb.postMeta(edited), await sb.postMeta(revoked)];
    await sb.drain();

    // Assess: the edit shown as what it says, nothing acknowledged after our reply, no empty message
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    const messages = await messagesOf(sb, asked?.id as string);
    expect(messages.filter((m) => m.direction === 'inbound').map((m) => m.text)).toEqual([
      'Gdzie jest paczka 1234?',
      '✏️ Gdzie jest paczka 1243?',
    ]);
    expect((await sb.outbox()).filter((entry) => entry.automatic)).toHaveLength(1);
    const [after] = await conversations(sb);
    expect(after).toMatchObject({ awaiting: 'no-reply-needed' });
  });

  // Found by the review of stop 33: an edit was never a question, so a customer who turned their
  // thanks into one ("Dziękuję!" → "Dziękuję, ale gdzie jest faktura?") after our answer waited for
  // nobody: no ack, no late notice, the conversation resolved by the thanks only reopened as no
  // reply needed. An edit of a message recorded as thanks is read as a new message: a question
  // waits for a person and is acknowledged, another thanks stays an edit.
  it("should take a WhatsApp Cloud edit that turns the customer's thanks into a question as their question", async () => {
    // Prepare: a question, answered; the customer only thanks (the conversation resolves itself)
    sb = await startTestSwitchboard();
    const edit = (id: string, original: string, body: string) => {
      const payload = whatsappCloud('48601234567', '', id);
      const value = payload.entry[0]?.changes[0]?.value;
      const { text: _text, ...message } = value?.messages[0] ?? {};
      if (value)
        value.messages[0] = {
          ...message,
          type: 'edit',
          edit: { original_message_id: original, message: { type: 'text', text: { body } } },
        };
      return payload;
    };
    await sb.postMeta(whatsappCloud('48601234567', 'Gdzie jest paczka 1234?', 'wamid.Q0000000002'));
    await sb.drain();
    const [asked] = await conversations(sb);
    expect((await sb.act(`/conversations/${asked?.id}/replies`, { text: 'Wyszła dziś rano.' })).status).toBe(
      201,
    );
    sb.clock.advance(30 * 60_000);
    await sb.postMeta(whatsappCloud('48601234567', 'Dziękuję!', 'wamid.T0000000002'));
    await sb.drain();
    expect((await sb.runtime.store.getConversation(asked?.id as string))?.status).toBe('resolved');

    // Act: the thanks edited into another thanks, then into a question
    sb.clock.advance(60_000);
    await sb.postMeta(edit('wamid.E0000000002', 'wamid.T0000000002', 'Dziękuję bardzo!'));
    await sb.drain();
    const automaticAfterThanks = (await sb.outbox()).filter((entry) => entry.automatic).length;
    sb.clock.advance(60_000);
    await sb.postMeta(edit('wamid.E0000000003', 'wamid.T0000000002', 'Dziękuję, ale gdzie jest faktura?'));
    await sb.drain();

    // Assess: the thanks edited stays an edit (nothing sent); the question waits and is acknowledged
    expect(automaticAfterThanks).toBe(1);
    expect((await sb.outbox()).filter((entry) => entry.automatic)).toHaveLength(2);
    const [after] = await conversations(sb);
    expect(after).toMatchObject({ id: asked?.id, status: 'open', awaiting: 'reply', ack: { state: 'sent' } });
    const texts = (await messagesOf(sb, asked?.id as string)).filter((m) => m.direction === 'inbound');
    expect(texts.map((m) => m.text)).toEqual([
      'Gdzie jest paczka 1234?',
      'Dziękuję!',
      '✏️ Dziękuję bardzo!',
      '✏️ Dziękuję, ale gdzie jest faktura?',
    ]);
  });

  // Found at stop 33: Meta's "Unsupported messages webhook reference": what the Cloud API cannot
  // pass on (a poll; an edit, for a number not on the WhatsApp Business app; a pin) comes as `type:
  // unsupported`, `unsupported.type` naming it. It was an empty message: the agent saw nothing, and
  // an edit after our reply was acknowledged as a new question.
  it('should show a WhatsApp Cloud unsupported message for what it is, and take an unsupported edit as an edit', async () => {
    // Prepare
    sb = await startTestSwitchboard();
    const unsupported = (from: string, kind: string) => {
      const payload = whatsappCloud(from, '');
      const value = payload.entry[0]?.changes[0]?.value;
      const { text: _text, ...message } = value?.messages[0] ?? {};
      if (value)
        value.messages[0] = {
          ...message,
          type: 'unsupported',
          unsupported: { type: kind },
          errors: [{ code: 131051, title: 'Message type unknown' }],
        };
      return payload;
    };

    // Act: one customer sends a poll; another edits a message after our reply
    await sb.postMeta(unsupported('48601234567', 'poll_creation'));
    await sb.postMeta(whatsappCloud('48601234568', 'Gdzie jest paczka?'));
    await sb.drain();
    const asking = (await conversations(sb)).find((c) => c.contact.key === 'phone:+48601234568');
    expect((await sb.act(`/conversations/${asking?.id}/replies`, { text: 'Już sprawdzam.' })).status).toBe(
      201,
    );
    sb.clock.advance(30 * 60_000);
    await sb.postMeta(unsupported('48601234568', 'edit'));
    await sb.drain();

    // Assess: the poll shown and acknowledged as any message; the edit shown, not acknowledged
    const all = await conversations(sb);
    const poll = all.find((c) => c.contact.key === 'phone:+48601234567');
    expect((await messagesOf(sb, poll?.id as string))[0]?.text).toBe('⚠️ [poll_creation]');
    expect(poll?.ack?.state).toBe('sent');
    const texts = (await messagesOf(sb, asking?.id as string)).filter((m) => m.direction === 'inbound');
    expect(texts.map((m) => m.text)).toEqual(['Gdzie jest paczka?', '✏️']);
    expect((await sb.outbox()).filter((entry) => entry.automatic)).toHaveLength(2);
  });

  // Found at stop 26: Meta's "Business-scoped user IDs" page: a WhatsApp user with a username
  // whose number the business has not exchanged messages with in 30 days writes with no `from`
  // and no `wa_id`, only `from_user_id` (the BSUID). Such a message failed the schema: skipped,
  // answered 200, lost.
  it('should record and acknowledge a WhatsApp Cloud message from a username without a number (only its BSUID)', async () => {
    // Prepare: Meta's documented payload of a user who hides their number
    sb = await startTestSwitchboard();

    // Act
    const response = await sb.postMeta(metaFixture('whatsapp-username'));
    await sb.drain();

    // Assess: one conversation keyed by the BSUID, its text kept, the ack sent to the BSUID
    expect(response.status).toBe(200);
    const [conversation, ...others] = await conversations(sb);
    expect(others).toHaveLength(0);
    expect(conversation?.contact).toMatchObject({
      key: 'whatsapp:PL.13491208655302741918',
      name: 'Sheena Nelson',
      channels: ['whatsapp'],
    });
    const messages = await messagesOf(sb, conversation?.id as string);
    expect(messages.map((m) => `${m.direction}:${m.kind}:${m.text.slice(0, 30)}`)).toEqual([
      'inbound:message:Does it come in another color?',
      expect.stringMatching(/^outbound:ack:/),
    ]);
    expect(await sb.outbox()).toEqual([
      expect.objectContaining({ channel: 'whatsapp', to: 'PL.13491208655302741918' }),
    ]);
  });

  // Found at stop 26: Meta's "Business-scoped user IDs" page: a status of a message sent to a
  // BSUID carries `recipient_user_id` and omits `recipient_id` (given only when a number may be
  // shared); in a group, `recipient_id` is the group's id, longer than the 32 characters the
  // schema allowed, and such a status was skipped as invalid.
  it('should update an ack sent to a BSUID on its delivered, read and failed statuses, whatever recipient_id holds', async () => {
    // Prepare: two usernames without a number write, and are acknowledged at their BSUIDs
    sb = await startTestSwitchboard();
    const bsuids = ['PL.13491208655302741918', 'PL.13491208655302741919'];
    for (const [i, bsuid] of bsuids.entries()) {
      const payload = metaFixtureBody('whatsapp-username')
        .replaceAll('PL.13491208655302741918', bsuid)
        .replace('wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=', `wamid.bsuid000${i}`);
      await sb.postMeta(JSON.parse(payload));
    }
    await sb.drain();
    const sent = await sb.outbox();
    const ackTo = (bsuid: string) => sent.find((m) => m.to === bsuid)?.providerMessageId;
    const statuses = (rows: Record<string, unknown>[], contacts?: unknown[]) =>
      whatsappEnvelope({ statuses: rows, ...(contacts ? { contacts } : {}) });

    // Act: the first ack delivered and read (contacts beside them, no recipient_id); the second
    // failed, in a group's shape (no contacts, recipient_id the group's long id)
    const [first, second] = bsuids as [string, string];
    const read = await sb.postMeta(
      statuses(
        [
          { id: ackTo(first), status: 'delivered', timestamp: '1763986702', recipient_user_id: first },
          { id: ackTo(first), status: 'read', timestamp: '1763986760', recipient_user_id: first },
        ],
        [{ profile: { username: '@realsheenanelson' }, user_id: first }],
      ),
    );
    const failed = await sb.postMeta(
      statuses([
        {
          id: ackTo(second),
          status: 'failed',
          timestamp: '1763986800',
          recipient_id: 'Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjMxMzQ5NTU0NzU0Njg=',
          recipient_type: 'group',
          recipient_user_id: second,
          errors: [{ code: 131026, title: 'Message undeliverable' }],
        },
      ]),
    );

    // Assess
    expect([read.status, failed.status]).toEqual([200, 200]);
    const all = await conversations(sb);
    const byKey = (bsuid: string) => all.find((c) => c.contact.key === `whatsapp:${bsuid}`);
    const readAck = (await messagesOf(sb, byKey(first)?.id as string)).find((m) => m.kind === 'ack');
    expect(readAck?.delivery?.status).toBe('read');
    expect(byKey(second)?.ack).toMatchObject({ state: 'failed', reason: 'delivery-failed:131026' });
  });

  it('should acknowledge a WhatsApp Cloud START again, and a HELP there as the question it is', async () => {
    // Prepare: an opted-out customer; on the Cloud API nobody answers HELP for us
    sb = await startTestSwitchboard();
    await sb.postMeta(whatsappCloud('48601234567', 'stop', 'wamid.stop0002'));
    await sb.drain();
    sb.clock.advance(60_000);

    // Act
    await sb.postMeta(whatsappCloud('48601234567', 'START', 'wamid.start0002'));
    await sb.drain();
    const afterStart = (await sb.runtime.store.getContact('phone:+48601234567'))?.optedOut;
    await sb.postMeta(whatsappCloud('48607654321', 'help', 'wamid.help0002'));
    await sb.drain();

    // Assess: START opts back in (recorded, not answered); HELP is acknowledged
    expect(afterStart).toBe(false);
    const outbox = await sb.outbox();
    expect(outbox.map((entry) => entry.to)).toEqual(['+48607654321']);
  });

  // Found at stop 25: WhatsApp read Twilio's SMS keywords, so an order's "Cancel" opted the
  // number out of every phone channel, unanswered and promised nothing (Twilio's keyword handling
  // is SMS only, and nobody confirms an opt-out on WhatsApp), HELP through Twilio went unanswered
  // though Twilio answers it on SMS only, and a Polish opt-out was not understood.
  it('should acknowledge "Cancel" and HELP on WhatsApp through Twilio as questions, and honour a Polish opt-out on WhatsApp Cloud', async () => {
    // Prepare: two customers on WhatsApp through Twilio, a third on the Cloud API
    sb = await startTestSwitchboard();
    const twilioWhatsApp = (from: string, body: string) =>
      sb.postTwilio('messaging', 'whatsapp-stop', {
        Body: body,
        OptOutType: undefined,
        From: `whatsapp:${from}`,
        MessageSid: twilioSid('SM'),
      });

    // Act
    await twilioWhatsApp('+48601234567', 'Cancel');
    await twilioWhatsApp('+48607654321', 'help');
    await sb.postMeta(whatsappCloud('48603111222', 'Wypisz mnie', 'wamid.optout0001'));
    await sb.drain();

    // Assess: both questions acknowledged, the first number still takes our texts on every
    // phone channel; the Polish opt-out recorded, never answered
    const outbox = await sb.outbox();
    expect(outbox.map((entry) => entry.to).sort()).toEqual([
      'whatsapp:+48601234567',
      'whatsapp:+48607654321',
    ]);
    expect((await sb.runtime.store.getContact('phone:+48601234567'))?.optedOut).toBeFalsy();
    expect((await sb.runtime.store.getContact('phone:+48603111222'))?.optedOut).toBe(true);
  });

  // Found at stop 24: a `contacts` message had no text of its own, and was stored empty.
  it('should keep the name and number of a contact card a WhatsApp Cloud customer shares', async () => {
    // Prepare: Meta's `contacts` message (a shared vCard); nothing else carries its content
    sb = await startTestSwitchboard();
    const payload = whatsappEnvelope({
      contacts: [{ profile: { name: 'Ewa' }, wa_id: '48601234567' }],
      messages: [
        {
          from: '48601234567',
          id: 'wamid.contacts0001',
          timestamp: '1763986400',
          type: 'contacts',
          contacts: [
            {
              name: { formatted_name: 'Jan Kowalski', first_name: 'Jan', last_name: 'Kowalski' },
              phones: [{ phone: '+48 602 345 678', wa_id: '48602345678', type: 'CELL' }],
            },
          ],
        },
      ],
    });

    // Act
    const response = await sb.postMeta(payload);
    await sb.drain();

    // Assess: the agent can see whom the customer shared
    expect(response.status).toBe(200);
    const [conversation] = await conversations(sb);
    const [message] = await messagesOf(sb, conversation?.id as string);
    expect(message?.text).toContain('Jan Kowalski');
    expect(message?.text.replace(/\D/g, '')).toContain('48602345678');
  });

  it('should answer Meta messages on their channel and ignore receipts and our own echoes', async () => {
    // Prepare
    sb = await startTestSwitchboard();
    const ourEcho = metaFixture('messenger-echo') as {
      entry: Array<{ messaging: Array<{ message: { app_id: number } }> }>;
    };
    const echoMessage = ourEcho.entry[0]?.messaging[0]?.message;
    if (echoMessage) echoMessage.app_id = Number(TEST_META_APP_ID);

    // Act
    const text = await sb.postMeta(metaFixture('messenger-text'));
    const receipts = await sb.postMeta(metaFixture('messenger-delivery-read'));
    const echo = await sb.postMeta(ourEcho);
    const instagram = await sb.postMeta(metaFixture('instagram-text'));
    const seen = await sb.postMeta(metaFixture('instagram-seen'));
    await sb.drain();

    // Assess
    expect([text, receipts, echo, instagram, seen].map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const all = await conversations(sb);
    expect(all.map((c) => c.channel).sort()).toEqual(['instagram', 'messenger']);
    const messenger = all.find((c) => c.channel === 'messenger');
    expect(messenger?.contact.key).toBe(`messenger:${PSID}`);
    expect((await messagesOf(sb, messenger?.id as string)).map((m) => `${m.direction}:${m.kind}`)).toEqual([
      'inbound:message',
      'outbound:ack',
    ]);
    expect((await sb.outbox()).map((entry) => entry.channel).sort()).toEqual(['instagram', 'messenger']);
  });

  it('should store a reply a person sent from the Page inbox and end the waiting episode', async () => {
    // Prepare
    sb = await startTestSwitchboard();
    await sb.postMeta(metaFixture('messenger-text'));
    const inboxReply = inboxReplyFixture();

    // Act
    sb.clock.advance(5 * 60_000);
    await sb.postMeta(inboxReply);
    await sb.drain();

    // Assess
    const [conversation] = await conversations(sb);
    expect(conversation?.firstReplyAt).toBeDefined();
    expect(conversation?.ack).toMatchObject({ state: 'skipped', reason: 'answered' });
    const messages = await messagesOf(sb, conversation?.id as string);
    expect(messages.map((m) => `${m.direction}:${m.kind}`)).toEqual(['inbound:message', 'outbound:reply']);
  });

  it("should apply a Page inbox reply on Meta's retry when the first delivery died after storing it", async () => {
    // Prepare: a customer waiting; the reply's conversation write fails once
    sb = await startTestSwitchboard();
    await sb.postMeta(metaFixture('messenger-text'));
    const inboxReply = inboxReplyFixture();
    sb.clock.advance(5 * 60_000);
    const crash = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: pkStartsWith('CONV#'),
    });

    // Act: Meta delivers it again (since stop 26 the failed delivery is answered 200 and its
    // events queued for the worker: this is a duplicate delivery), and the worker runs
    const died = await sb.postMeta(inboxReply);
    const retried = await sb.postMeta(inboxReply);
    await sb.drain();

    // Assess: the episode ended with that reply, once; no ack went out
    expect(crash.fired).toBe(1);
    expect([died.status, retried.status]).toEqual([200, 200]);
    const [conversation] = await conversations(sb);
    expect(conversation?.ack).toMatchObject({ state: 'skipped', reason: 'answered' });
    expect(conversation?.firstReplyAt).toBeDefined();
    const messages = await messagesOf(sb, conversation?.id as string);
    expect(messages.map((m) => `${m.direction}:${m.kind}`)).toEqual(['inbound:message', 'outbound:reply']);
    expect(await sb.outbox()).toHaveLength(0);
  });

  it('should skip the ack instead of sending outside the 24-hour window', async () => {
    // Prepare
    sb = await startTestSwitchboard();
    await sb.postMeta(metaFixture('messenger-text'));

    // Act: the worker only gets to it a day later.
    sb.clock.advance(25 * 60 * 60_000);
    await sb.drain();

    // Assess
    expect((await conversations(sb))[0]?.ack).toMatchObject({ state: 'skipped', reason: 'outside-window' });
    expect(await sb.outbox()).toHaveLength(0);
  });

  it('should store every message of a batch', async () => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act
    const response = await sb.postMeta(metaFixture('batch'));

    // Assess
    expect(response.status).toBe(200);
    expect((await conversations(sb)).length).toBeGreaterThan(1);
  });

  it('should answer the Meta subscription handshake only with our verify token', async () => {
    // Prepare
    sb = await startTestSwitchboard();
    const query = (token: string) =>
      `/webhooks/meta?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=1158201444`;

    // Act
    const good = await sb.runtime.app.request(query(TEST_META_VERIFY_TOKEN));
    const bad = await sb.runtime.app.request(query('guess'));

    // Assess
    expect(good.status).toBe(200);
    expect(await good.text()).toBe('1158201444');
    expect(bad.status).toBe(403);
  });

  it('should refuse a Meta POST with a wrong signature and store nothing', async () => {
    // Prepare
    sb = await startTestSwitchboard();

    // Act
    const response = await sb.runtime.app.request('/webhooks/meta', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      body: JSON.stringify(metaFixture('messenger-text')),
    });

    // Assess
    expect(response.status).toBe(403);
    expect(await conversations(sb)).toHaveLength(0);
  });

  /** Switchboard sending through the fake Twilio. */
  async function startThroughTwilio() {
    twilio = await startFakeTwilio();
    sb = await startTestSwitchboardThroughTwilio(twilio);
  }

  /** A customer's SMS acknowledged through the fake Twilio: the conversation and its ack message. */
  async function ackSentThroughTwilio() {
    await startThroughTwilio();
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();
    const [conversation] = await conversations(sb);
    const ack = (await messagesOf(sb, conversation?.id as string)).find((m) => m.kind === 'ack');
    return { conversation, ack };
  }

  it('should store Twilio delivery callbacks on our ack and mark an undelivered ack failed', async () => {
    // Prepare
    const { conversation, ack } = await ackSentThroughTwilio();

    // Act
    const sent = await sb.postTwilio('status', 'status-delivered', {
      MessageSid: ack?.providerMessageId as string,
      MessageStatus: 'sent',
    });
    const undelivered = await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: ack?.providerMessageId as string,
    });
    const again = await sb.postTwilio('status', 'status-undelivered-30007', {
      MessageSid: ack?.providerMessageId as string,
    });
    const lateSent = await sb.postTwilio('status', 'status-delivered', {
      MessageSid: ack?.providerMessageId as string,
      MessageStatus: 'sent',
    });
    const unknown = await sb.postTwilio('status', 'status-delivered', { MessageSid: twilioSid('SM') });

    // Assess
    expect([sent, undelivered, again, lateSent, unknown].map((r) => r.status)).toEqual([
      200, 200, 200, 200, 200,
    ]);
    const outcomes = sb.log.lines
      .filter((line) => line.message === 'delivery update')
      .map((line) => line.fields?.outcome);
    expect(outcomes).toEqual(['applied', 'applied', 'stale', 'stale', 'held']);
    const after = (await conversations(sb))[0];
    expect(after?.ack).toMatchObject({ state: 'failed', reason: 'delivery-undelivered:30007' });
    const messages = await messagesOf(sb, conversation?.id as string);
    expect(messages.find((m) => m.kind === 'ack')?.delivery).toMatchObject({
      status: 'undelivered',
      errorCode: '30007',
    });
    expect(messages.filter((m) => m.direction === 'inbound')).toHaveLength(1);
  });

  it('should keep an ack failed when Twilio reports it undelivered before the worker has marked it sent', async () => {
    // Prepare: the worker stopped right after storing the ack's provider id, and Twilio's
    // undelivered callback answered there
    await startThroughTwilio();
    let callback = 0;
    let providerId = '';
    const stop = afterCall(
      sb.backends.dynamodb,
      {
        command: 'UpdateItemCommand',
        match: (input) => {
          const pk = (input.Key as { pk?: { S?: string } } | undefined)?.pk?.S ?? '';
          if (!pk.startsWith('PMID#twilio:')) return false;
          providerId = pk.slice('PMID#twilio:'.length);
          return true;
        },
      },
      async () => {
        callback = (
          await sb.postTwilio('status', 'status-undelivered-30007', {
            MessageSid: providerId,
            SmsSid: providerId,
          })
        ).status;
      },
    );

    // Act
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();

    // Assess: the worker's "sent" came after the failure and did not hide it
    expect(stop.fired).toBe(true);
    expect(callback).toBe(200);
    const [conversation] = await conversations(sb);
    expect(conversation?.ack).toMatchObject({ state: 'failed', reason: 'delivery-undelivered:30007' });
  });

  it('should mark an ack failed when Twilio reports it undelivered before the worker has stored its provider id', async () => {
    // Prepare: Twilio's undelivered callback lands between the worker storing the ack and
    // storing its provider-id alias (milliseconds after Twilio's 201). Found at stop 23.
    await startThroughTwilio();
    const race = undeliveredBeforeAlias(sb);

    // Act
    await sb.postSms({ From: '+48601234567' });
    await sb.drain();

    // Assess
    expect(race.fired).toBe(true);
    expect(race.callbackStatus).toBe(200);
    const [conversation] = await conversations(sb);
    expect(conversation?.ack).toMatchObject({ state: 'failed', reason: 'delivery-undelivered:30007' });
    const ack = (await messagesOf(sb, conversation?.id as string)).find((m) => m.kind === 'ack');
    expect(ack?.delivery).toMatchObject({ status: 'undelivered', errorCode: '30007' });
  });

  it("should mark the ack failed on Twilio's retry when the undelivered callback's first delivery died after storing it", async () => {
    // Prepare: an ack sent; its undelivered callback dies between the message and the conversation writes
    const { ack } = await ackSentThroughTwilio();
    const crash = injectFault(sb.backends.dynamodb, {
      command: 'PutItemCommand',
      when: 'before',
      match: pkStartsWith('CONV#'),
    });
    const callback = () =>
      sb.postTwilio('status', 'status-undelivered-30007', { MessageSid: ack?.providerMessageId as string });

    // Act
    const died = await callback();
    const retried = await callback();

    // Assess
    expect(crash.fired).toBe(1);
    // Queued for the worker (stop 24): Twilio gets 200 either way.
    expect([died.status, retried.status]).toEqual([200, 200]);
    expect((await conversations(sb))[0]?.ack).toMatchObject({
      state: 'failed',
      reason: 'delivery-undelivered:30007',
    });
  });
});
