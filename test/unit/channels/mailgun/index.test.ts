import { describe, expect, it } from 'vitest';
import { createMailgunChannel } from '#lib/channels/mailgun/index.ts';
import {
  mailgunFixture,
  mailgunRequest,
  signMailgun,
  TEST_NOW,
  TEST_SIGNING_KEY,
} from '#test/support/mailgun-factory.ts';

function channel() {
  return createMailgunChannel({
    signingKey: TEST_SIGNING_KEY,
    now: () => TEST_NOW,
    saveAttachment: async (name) => `attachments/${name}`,
    ourAddresses: ['anna@mg.sklep.example'],
  });
}

describe('createMailgunChannel', () => {
  it('should verify, parse and normalize a signed route POST', async () => {
    // Prepare
    const mailgun = channel();
    const request = mailgunRequest(signMailgun(mailgunFixture('reply-polish')));

    // Act
    const outcome = await mailgun.webhook.verify(request);
    const events = await mailgun.webhook.normalize(mailgun.webhook.parse(request));

    // Assess
    expect(outcome).toBe('ok');
    expect(events.map((event) => event.type)).toEqual(['message']);
    expect(mailgun.provider).toBe('mailgun');
  });

  it('should give the token as the replay key', () => {
    // Prepare
    const mailgun = channel();
    const token = 'f'.repeat(50);
    const payload = mailgun.webhook.parse(
      mailgunRequest(signMailgun(mailgunFixture('reply-polish'), { token })),
    );

    // Act
    const key = mailgun.webhook.replayKey?.(payload);

    // Assess
    expect(key).toBe(`mailgun:${token}`);
  });

  it('should use the injected clock for the timestamp window', async () => {
    // Prepare
    const mailgun = createMailgunChannel({
      signingKey: TEST_SIGNING_KEY,
      now: () => new Date(TEST_NOW.getTime() + 10 * 60 * 60 * 1000),
      saveAttachment: async () => '',
      ourAddresses: [],
    });

    // Act
    const outcome = await mailgun.webhook.verify(mailgunRequest(signMailgun(mailgunFixture('reply-polish'))));

    // Assess
    expect(outcome).toBe('invalid');
  });

  it('should refuse to start without a signing key', () => {
    // Act
    const act = () =>
      createMailgunChannel({ signingKey: '', saveAttachment: async () => '', ourAddresses: [] });

    // Assess
    expect(act).toThrow(/signing key/);
  });
});
