import { randomUUID } from 'node:crypto';
import { pollOnce } from '#lib/local/worker.ts';
import { createRuntime, type Runtime } from '#lib/runtime/runtime.ts';
import { handleWorkRecord } from '#lib/runtime/work-records.ts';
import type { FakeSes } from './fake-ses.ts';
import { mailgunFixture, signMailgun } from './mailgun-factory.ts';
import { memoryLog } from './silent-log.ts';
import {
  type SnsKeys,
  sesFixture,
  signSns,
  snsKeys,
  snsNotification,
  TEST_CERT_URL,
  TEST_TOPIC_ARN,
} from './sns-signer.ts';
import type { TestSwitchboard } from './switchboard.ts';

/** What a plain mail says: its author, and what differs from the defaults (a Polish invoice question). */
export type PlainMail = {
  from: string;
  messageId?: string;
  subject?: string;
  body?: string;
  extraHeaders?: Array<[string, string]>;
};

/** A Mailgun route POST of one plain mail, built on the captured fixture. */
export function mailgunMail(options: PlainMail): URLSearchParams {
  const form = mailgunFixture('reply-polish');
  const body = options.body ?? 'Dzień dobry, proszę o fakturę.';
  const subject = options.subject ?? 'Pytanie o fakturę';
  const headers: Array<[string, string]> = [
    ['Received', 'from mx.example.net by mxa.eu.mailgun.org with ESMTP'],
    ['Mime-Version', '1.0'],
    ['Content-Type', 'text/plain; charset="UTF-8"'],
    ['From', options.from],
    ['To', 'Anna Kowalska <anna@mg.sklep.example>'],
    ['Subject', subject],
    ...(options.messageId ? ([['Message-Id', `<${options.messageId}>`]] as Array<[string, string]>) : []),
    ...(options.extraHeaders ?? []),
  ];
  for (const key of [...form.keys()]) {
    if (/^[A-Z]/.test(key)) form.delete(key);
  }
  form.delete('In-Reply-To');
  form.delete('References');
  form.set('from', options.from);
  form.set('From', options.from);
  form.set('sender', /<([^>]+)>/.exec(options.from)?.[1] ?? options.from);
  form.set('subject', subject);
  form.set('body-plain', body);
  form.set('stripped-text', body);
  form.set('message-headers', JSON.stringify(headers));
  if (options.messageId) form.set('Message-Id', `<${options.messageId}>`);
  else form.delete('Message-Id');
  return form;
}

/** The raw MIME of a plain mail, as SES stores it (CRLF, quoted-printable UTF-8). */
export function rawMime(mail: PlainMail): string {
  const subject = mail.subject ?? 'Pytanie o fakturę';
  const body = mail.body ?? 'Dzień dobry, proszę o fakturę.';
  return [
    'Return-Path: <sender@bounce.example>',
    'Received: from mx.example.net by inbound-smtp.eu-west-1.amazonaws.com with SMTP id x',
    `From: ${mail.from}`,
    'To: Anna Kowalska <anna@mg.sklep.example>',
    `Subject: =?UTF-8?B?${Buffer.from(subject).toString('base64')}?=`,
    'Date: Wed, 11 Nov 2026 08:30:00 +0100',
    ...(mail.messageId ? [`Message-ID: <${mail.messageId}>`] : []),
    ...(mail.extraHeaders ?? []).map(([name, value]) => `${name}: ${value}`),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset="UTF-8"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(`${body.replace(/\n/g, '\r\n')}\r\n`).toString('base64'),
    '',
  ].join('\r\n');
}

/** Posts one plain mail, signed, to `sb`'s Mailgun route. */
export function postMailgunMail(sb: TestSwitchboard, mail: PlainMail): Promise<Response> {
  return sb.postMailgun(signMailgun(mailgunMail(mail)));
}

/** The http function and ack worker as deployed for email: the same tables, SES (faked) as the sender. */
export function sesRuntime(sb: TestSwitchboard, ses: FakeSes, configurationSet?: string): Runtime {
  return createRuntime({
    config: {
      ...sb.config,
      email: { ...sb.config.email, fromAddress: 'Anna Kowalska <anna@sklep.example>', configurationSet },
    },
    dynamodb: sb.backends.dynamodb,
    sqs: sb.backends.sqs,
    log: memoryLog(),
    clock: sb.clock,
    emailClient: ses.client(),
  });
}

/** Runs the ack worker of `runtime` on `sb`'s queue until the queue is empty. */
export async function drainWith(sb: TestSwitchboard, runtime: Runtime): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const { received } = await pollOnce({
      sqs: sb.backends.sqs,
      queueUrl: sb.backends.queueUrl,
      handle: (record) => handleWorkRecord(runtime.workDeps, record),
      log: memoryLog(),
      waitSeconds: 0,
    });
    if (received === 0) return;
  }
}

/** One header of a raw MIME message, unfolded. */
export function headerOf(rawMime: string, name: string): string | undefined {
  const head = rawMime.split('\r\n\r\n')[0]?.replace(/\r\n[ \t]+/g, ' ') ?? '';
  return head
    .split('\r\n')
    .find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    ?.slice(name.length + 1)
    .trim();
}

let sesKeys: SnsKeys | undefined;

/**
 * What startTestSwitchboard needs to take SES mail: the test topic allowed, and a network that
 * answers the signing certificate's URL (signed by postSesMail's key) and nothing else.
 */
export function sesIntake(): { env: Record<string, string>; fetch: typeof fetch } {
  sesKeys ??= snsKeys();
  const keys = sesKeys;
  return {
    env: { SES_TOPIC_ARNS: TEST_TOPIC_ARN },
    fetch: async (input) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url === TEST_CERT_URL) return new Response(keys.certificatePem);
      return new Response('<ConfirmSubscriptionResponse/>', { status: 200 });
    },
  };
}

/** A mail (a plain one, or raw MIME) as SES's signed SNS notification, inline, posted to the SES route. */
export async function postSesMail(sb: TestSwitchboard, mail: PlainMail | string): Promise<Response> {
  sesKeys ??= snsKeys();
  const notification = sesFixture('received-inline') as {
    mail: Record<string, unknown>;
    receipt: Record<string, unknown>;
  };
  const raw = typeof mail === 'string' ? mail : rawMime(mail);
  const message = {
    ...notification,
    mail: {
      ...notification.mail,
      messageId: randomUUID().replace(/-/g, ''),
      source: 'sender@bounce.example',
    },
    receipt: { ...notification.receipt, recipients: ['anna@mg.sklep.example'] },
    content: Buffer.from(raw).toString('base64'),
  };
  return sb.runtime.app.request('/webhooks/email/ses', {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
    body: JSON.stringify(signSns(snsNotification(message), sesKeys)),
  });
}

/**
 * SES's report of one of our sends (`messageId`, as SendEmail answered) as its configuration
 * set's SNS event destination publishes it (SES dev guide, "Examples of event data that Amazon
 * SES publishes to Amazon SNS"), signed, posted to the SES route. `event` is the Bounce or
 * Complaint object; `notification` the whole JSON when a test needs another shape.
 */
export async function postSesFeedback(
  sb: TestSwitchboard,
  feedback: { messageId: string; eventType: 'Bounce' | 'Complaint'; event: Record<string, unknown> },
  options: { snsMessageId?: string; tamper?: boolean } = {},
): Promise<Response> {
  sesKeys ??= snsKeys();
  const field = feedback.eventType === 'Bounce' ? 'bounce' : 'complaint';
  const message = {
    eventType: feedback.eventType,
    [field]: feedback.event,
    mail: {
      timestamp: '2026-11-10T08:13:58.000Z',
      source: 'anna@sklep.example',
      sourceArn: 'arn:aws:ses:eu-west-1:123456789012:identity/sklep.example',
      sendingAccountId: '123456789012',
      messageId: feedback.messageId,
      destination: ['zofia.wojcik@poczta.example.pl'],
      headersTruncated: false,
      tags: { 'ses:configuration-set': ['switchboard-test'] },
    },
  };
  const notification = snsNotification(
    message,
    options.snsMessageId ? { MessageId: options.snsMessageId } : {},
  );
  // Event publishing names no Subject; SNS then signs none.
  delete notification.Subject;
  const signed = signSns(notification, sesKeys);
  if (options.tamper) signed.Message = signed.Message?.replace('Permanent', 'Transient') ?? '';
  return sb.runtime.app.request('/webhooks/email/ses', {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
    body: JSON.stringify(signed),
  });
}

/** A permanent bounce of a mailbox that does not exist, as SES reports it (addresses and all). */
export function permanentBounce(): Record<string, unknown> {
  return {
    feedbackId: '0102019a-bounce-000000',
    bounceType: 'Permanent',
    bounceSubType: 'NoEmail',
    bouncedRecipients: [
      {
        emailAddress: 'zofia.wojcik@poczta.example.pl',
        action: 'failed',
        status: '5.1.1',
        diagnosticCode: 'smtp; 550 5.1.1 <zofia.wojcik@poczta.example.pl>: Recipient address rejected',
      },
    ],
    timestamp: '2026-11-10T08:14:05.000Z',
    reportingMTA: 'dsn; a1-2.smtp-out.eu-west-1.amazonses.com',
  };
}
