import { describe, expect, it } from 'vitest';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import {
  callContactKey,
  isWithheldCaller,
  normalizeTwilioCall,
  normalizeTwilioRecordAction,
  normalizeTwilioRecording,
  normalizeTwilioTranscription,
} from '#lib/channels/twilio/voice-normalize.ts';
import {
  parseTwilioRecordAction,
  parseTwilioRecording,
  parseTwilioTranscription,
  parseTwilioVoice,
} from '#lib/channels/twilio/voice-schema.ts';
import { InboundMessageSchema, TranscriptionSchema } from '#lib/domain/message.ts';
import { twilioFixture, twilioForm } from '#test/support/twilio-factory.ts';

const ACCOUNT = 'AC7f3c2a9b1e4d5f60718293a4b5c6d7e8';
const CALL = 'CA5c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f';
const RECORDING = 'RE8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d';

function issuesOf(act: () => unknown): string[] {
  try {
    act();
  } catch (error) {
    if (error instanceof MalformedPayloadError) return error.issues;
    throw error;
  }
  throw new Error('expected MalformedPayloadError');
}

describe('normalizeTwilioCall', () => {
  it('should turn the incoming call into one call message keyed by the caller number', () => {
    // Prepare
    const payload = parseTwilioVoice(twilioFixture('voice-incoming').toString());

    // Act
    const events = normalizeTwilioCall(payload);

    // Assess
    expect(events).toEqual([
      {
        type: 'message',
        message: {
          provider: 'twilio',
          providerMessageId: CALL,
          channel: 'voice',
          kind: 'call',
          contactKey: 'phone:+48601234567',
          from: '+48601234567',
          to: '+48221234567',
          text: '',
          media: [],
        },
      },
    ]);
  });

  it.each(['outbound-api', 'outbound-dial'])('should ignore a call with Direction %s', (Direction) => {
    // Prepare
    const payload = parseTwilioVoice(twilioForm('voice-incoming', { Direction }).toString());

    // Act
    const events = normalizeTwilioCall(payload);

    // Assess
    expect(events).toEqual([{ type: 'ignored', reason: `call:${Direction}` }]);
  });

  it.each([
    'Anonymous',
    'anonymous',
    'client:Anonymous',
    'Restricted',
    'UNAVAILABLE',
    '+266696687',
    '+7378742833',
    '+2562533',
    '+8656696',
    '+86282452253',
    '',
  ])(
    // Found at stop 24: `from` was the placeholder itself, and a reply texted it (a keypad form
    // such as +86282452253 is a stranger's number).
    'should record a call from the withheld number %j under a key of its own, from "anonymous", never acknowledged',
    (From) => {
      // Prepare
      const payload = parseTwilioVoice(twilioForm('voice-incoming', { From, Caller: From }).toString());

      // Act
      const events = normalizeTwilioCall(payload);

      // Assess
      expect(events).toEqual([
        {
          type: 'message',
          message: expect.objectContaining({
            kind: 'call',
            contactKey: `anonymous:${CALL}`,
            from: 'anonymous',
            noAckReason: 'anonymous-caller',
          }),
        },
      ]);
    },
  );

  it('should record a call whose From is missing altogether as withheld', () => {
    // Prepare
    const payload = parseTwilioVoice(twilioForm('voice-incoming', { From: undefined }).toString());

    // Act
    const [event] = normalizeTwilioCall(payload);

    // Assess
    expect(event).toMatchObject({ message: { contactKey: `anonymous:${CALL}`, from: 'anonymous' } });
  });

  // Found at stop 23: every caller with privacy on through a SIP trunk shared one conversation.
  it.each([
    'sip:anonymous@anonymous.invalid',
    'sip:Anonymous@203.0.113.7:5060;transport=udp',
    'sips:restricted@trunk.example.com',
    'sip:unknown@trunk.example.com',
    'sip:user@anonymous.invalid',
    'sip:%2B266696687@trunk.example.com',
    'sip:trunk.example.com',
    'client:',
  ])('should take the SIP or Client caller %j for a withheld number, under a key of its own', (From) => {
    // Prepare
    const payload = parseTwilioVoice(twilioForm('voice-incoming', { From, Caller: From }).toString());

    // Act
    const [event] = normalizeTwilioCall(payload);

    // Assess
    expect(event).toMatchObject({
      message: { contactKey: `anonymous:${CALL}`, from: 'anonymous', noAckReason: 'anonymous-caller' },
    });
  });

  // The `from` of a SIP caller with a number is the number: answers are texted to it.
  it.each([
    ['sip:+48601234567@trunk.example.com;user=phone', 'phone:+48601234567', '+48601234567'],
    ['sip:+48-601-234-567@trunk.example.com', 'phone:+48601234567', '+48601234567'],
    [
      'sip:jan.kowalski@PBX.Example.com:5061;transport=tls',
      'sip:jan.kowalski@pbx.example.com',
      'sip:jan.kowalski@PBX.Example.com:5061;transport=tls',
    ],
    [
      'sips:jan.kowalski:secret@pbx.example.com',
      'sip:jan.kowalski@pbx.example.com',
      'sips:jan.kowalski:secret@pbx.example.com',
    ],
    ['client:jan', 'client:jan', 'client:jan'],
  ])('should key the SIP or Client caller %j as %s, from %j', (From, contactKey, from) => {
    // Prepare
    const payload = parseTwilioVoice(twilioForm('voice-incoming', { From, Caller: From }).toString());

    // Act
    const [event] = normalizeTwilioCall(payload);

    // Assess
    expect(event).toMatchObject({ message: { contactKey, from } });
    expect(event).not.toMatchObject({ message: { noAckReason: expect.anything() } });
  });

  it('should not take a real number for a withheld one', () => {
    // Prepare, Act
    const verdicts = ['+48601234567', '+14155550123', '+2665669668'].map(isWithheldCaller);

    // Assess
    expect(verdicts).toEqual([false, false, false]);
  });
});

describe('normalizeTwilioRecording', () => {
  it('should turn the completed recording into a voicemail tied to its call', () => {
    // Prepare
    const payload = parseTwilioRecording(twilioFixture('recording-completed').toString());

    // Act
    const events = normalizeTwilioRecording(payload);

    // Assess
    expect(events).toEqual([
      {
        type: 'message',
        message: {
          provider: 'twilio',
          providerMessageId: RECORDING,
          channel: 'voice',
          kind: 'voicemail',
          contactKey: `call:${CALL}`,
          from: '',
          to: '',
          text: '',
          media: [
            {
              url: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Recordings/${RECORDING}.mp3`,
              contentType: 'audio/mpeg',
            },
          ],
          durationSeconds: 23,
          callId: CALL,
        },
      },
    ]);
  });

  it('should use the placeholder key callContactKey gives for the call', () => {
    // Prepare
    const payload = parseTwilioRecording(twilioFixture('recording-completed').toString());

    // Act
    const [event] = normalizeTwilioRecording(payload);

    // Assess
    expect(event).toMatchObject({ message: { contactKey: callContactKey(CALL) } });
  });

  it('should not append .mp3 twice', () => {
    // Prepare
    const url = `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Recordings/${RECORDING}`;
    const payloads = [`${url}.mp3`, `${url}.wav`].map((RecordingUrl) =>
      parseTwilioRecording(twilioForm('recording-completed', { RecordingUrl }).toString()),
    );

    // Act
    const urls = payloads.map((payload) => {
      const [event] = normalizeTwilioRecording(payload);
      return event?.type === 'message' ? event.message.media[0]?.url : undefined;
    });

    // Assess
    expect(urls).toEqual([`${url}.mp3`, `${url}.mp3`]);
  });

  it('should ignore the absent recording with its error code', () => {
    // Prepare
    const payload = parseTwilioRecording(twilioFixture('recording-absent').toString());

    // Act
    const events = normalizeTwilioRecording(payload);

    // Assess
    expect(events).toEqual([{ type: 'ignored', reason: 'recording:absent:16101' }]);
  });

  it.each([
    ['failed', undefined, 'recording:failed'],
    ['in-progress', undefined, 'recording:in-progress'],
    ['absent', '0', 'recording:absent'],
  ])('should ignore a %s recording', (RecordingStatus, ErrorCode, reason) => {
    // Prepare
    const form = twilioForm('recording-absent', { RecordingStatus, ErrorCode });

    // Act
    const events = normalizeTwilioRecording(parseTwilioRecording(form.toString()));

    // Assess
    expect(events).toEqual([{ type: 'ignored', reason }]);
  });

  it('should refuse a completed recording without an https URL or a duration', () => {
    // Prepare
    const forms = [
      twilioForm('recording-completed', { RecordingUrl: undefined }),
      twilioForm('recording-completed', { RecordingUrl: 'http://api.twilio.com/x' }),
      twilioForm('recording-completed', { RecordingDuration: undefined }),
      twilioForm('recording-completed', { RecordingDuration: '-3' }),
    ];

    // Act
    const issues = forms.map((form) => issuesOf(() => parseTwilioRecording(form.toString())));

    // Assess
    expect(issues).toEqual([
      ['RecordingUrl: custom'],
      ['RecordingUrl: custom'],
      ['RecordingDuration: custom'],
      ['RecordingDuration: invalid_format'],
    ]);
  });
});

describe('normalizeTwilioTranscription', () => {
  it('should turn the completed transcription into text for its recording', () => {
    // Prepare
    const payload = parseTwilioTranscription(twilioFixture('transcription-completed').toString());

    // Act
    const events = normalizeTwilioTranscription(payload);

    // Assess
    expect(events).toEqual([
      {
        type: 'transcription',
        transcription: {
          provider: 'twilio',
          providerMessageId: 'RE1b2c3d4e5f60718293a4b5c6d7e8f901',
          text: 'Hi, this is Mark Evans about order 4471. The parcel arrived damaged, could you call me back on this number? Thanks.',
        },
      },
    ]);
  });

  it('should ignore a failed transcription', () => {
    // Prepare
    const form = twilioForm('transcription-completed', {
      TranscriptionStatus: 'failed',
      TranscriptionText: undefined,
    });

    // Act
    const events = normalizeTwilioTranscription(parseTwilioTranscription(form.toString()));

    // Assess
    expect(events).toEqual([{ type: 'ignored', reason: 'transcription:failed' }]);
  });

  it('should ignore a completed transcription with no words', () => {
    // Prepare
    const form = twilioForm('transcription-completed', { TranscriptionText: '  ' });

    // Act
    const events = normalizeTwilioTranscription(parseTwilioTranscription(form.toString()));

    // Assess
    expect(events).toEqual([{ type: 'ignored', reason: 'transcription:empty' }]);
  });
});

describe('normalizeTwilioRecordAction', () => {
  it('should emit nothing to store: the recording callback carries the voicemail', () => {
    // Prepare
    const payload = parseTwilioRecordAction(twilioFixture('record-action').toString());

    // Act
    const events = normalizeTwilioRecordAction(payload);

    // Assess
    expect(payload.Digits).toBe('#');
    expect(events).toEqual([{ type: 'ignored', reason: 'record-action' }]);
  });
});

describe('voice webhook schemas', () => {
  it('should name broken params of every voice webhook and never echo their values', () => {
    // Prepare
    const secret = '+48601234567';
    const acts = [
      () =>
        parseTwilioVoice(twilioForm('voice-incoming', { CallSid: secret, Direction: undefined }).toString()),
      () => parseTwilioRecording(twilioForm('recording-completed', { RecordingSid: secret }).toString()),
      () =>
        parseTwilioTranscription(
          twilioForm('transcription-completed', { TranscriptionStatus: `done ${secret}` }).toString(),
        ),
      () => parseTwilioRecordAction(twilioForm('record-action', { AccountSid: secret }).toString()),
    ];

    // Act
    const issues = acts.map(issuesOf);

    // Assess
    expect(issues).toEqual([
      ['CallSid: invalid_format', 'Direction: invalid_type'],
      ['RecordingSid: invalid_format'],
      ['TranscriptionStatus: invalid_format'],
      ['AccountSid: invalid_format'],
    ]);
    expect(JSON.stringify(issues)).not.toContain(secret);
  });

  it('should produce messages and transcriptions that satisfy the domain schemas', () => {
    // Prepare
    const events = [
      ...normalizeTwilioCall(parseTwilioVoice(twilioFixture('voice-incoming').toString())),
      ...normalizeTwilioCall(parseTwilioVoice(twilioForm('voice-incoming', { From: '' }).toString())),
      ...normalizeTwilioRecording(parseTwilioRecording(twilioFixture('recording-completed').toString())),
      ...normalizeTwilioTranscription(
        parseTwilioTranscription(twilioFixture('transcription-completed').toString()),
      ),
    ];

    // Act
    const results = events.map((event) =>
      event.type === 'message'
        ? InboundMessageSchema.safeParse(event.message).success
        : event.type === 'transcription' && TranscriptionSchema.safeParse(event.transcription).success,
    );

    // Assess
    expect(results).toEqual([true, true, true, true]);
  });
});
