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

  it('should bind the token to what the mail says', () => {
    // Prepare
    const mailgun = channel();
    const token = 'f'.repeat(50);
    const parse = (form: URLSearchParams) =>
      mailgun.webhook.parse(mailgunRequest(signMailgun(form, { token })));
    const other = mailgunFixture('reply-polish');
    other.set('body-plain', 'Inna treść.');

    // Act
    const first = mailgun.webhook.replayGuard?.(parse(mailgunFixture('reply-polish')));
    const again = mailgun.webhook.replayGuard?.(parse(mailgunFixture('reply-polish')));
    const forged = mailgun.webhook.replayGuard?.(parse(other));

    // Assess
    expect(first?.key).toBe(`mailgun:${token}`);
    expect(again).toEqual(first);
    expect(forged?.key).toBe(first?.key);
    expect(forged?.content).not.toBe(first?.content);
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
    expect(outcome).toBe('expired');
  });

  it('should refuse to start without a signing key', () => {
    // Act
    const act = () =>
      createMailgunChannel({ signingKey: '', saveAttachment: async () => '', ourAddresses: [] });

    // Assess
    expect(act).toThrow(/signing key/);
  });
});
