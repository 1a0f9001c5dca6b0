import { afterEach, describe, expect, it } from 'vitest';
import { startTestSwitchboard, type TestSwitchboard } from '#test/support/switchboard.ts';

// What the customer actually receives: the language of acks and greetings, the signature of
// agents' replies, the SMS after a call, and whose name an email answer comes under. Found by
// a review of the customer-facing texts at stop 23.

const MOBILE = '+48601234567';

describe('what the customer receives', () => {
  let sb: TestSwitchboard;

  afterEach(async () => {
    await sb?.stop();
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
});
