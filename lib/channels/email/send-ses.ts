import {
  gatewayLostAnswer,
  noAnswerError,
  type RetryOptions,
  retryWithinBudget,
} from '#lib/channels/http-retry.ts';
import type { ChannelSender, OutboundText, SendReceipt } from '#lib/ports/channel-sender.ts';
import { SendError, SwitchboardError } from '#lib/ports/errors.ts';
import { canonicalAddress } from './address.ts';
import { composeReply, parseMailbox, replySubject } from './compose.ts';
import type { MailAddress } from './mime.ts';

/** The SESv2 SendEmail request this sender makes (raw content only). */
export type SesSendEmailInput = {
  FromEmailAddress?: string;
  Destination?: { ToAddresses?: string[] };
  Content: { Raw?: { Data: Uint8Array | undefined } };
  ConfigurationSetName?: string;
};

/**
 * The one SESv2 call the sender needs. Channels import no AWS SDK (dependency-cruiser rule
 * `channels-know-no-store`), so the SDK comes in through this port: the SDK's aggregated
 * `new SESv2({ region })` satisfies it as it is, or, lighter in a bundle,
 * `{ sendEmail: (input) => client.send(new SendEmailCommand(input)) }` over an SESv2Client.
 */
export type SesEmailClient = {
  sendEmail(input: SesSendEmailInput): Promise<{ MessageId?: string | undefined }>;
};

export type SesSenderOptions = {
  client: SesEmailClient;
  /**
   * The sending address, a verified SES identity: `Anna Kowalska <anna@…>`. Its display name
   * shows only on a message that names no signer (`senderName`).
   */
  from: string;
  configurationSetName?: string;
  now?: () => Date;
};

/**
 * Retries within the call of a send SES surely did not take (throttling, 503, a connection that
 * never opened), as the other senders do; the client itself makes one attempt and times it out
 * (lib/runtime/ses-client.ts), so `timeoutMs` bounds nothing here.
 */
const RETRY: RetryOptions = { timeoutMs: 8_000, maxRetries: 2, totalBudgetMs: 8_000, baseDelayMs: 300 };

// SESv2 names (and the v1 names some proxies still answer with) of refusals of this one mail,
// which no retry fixes.
const PERMANENT = new Set(['MessageRejected', 'BadRequestException']);
// Refusals of our account, identity or credentials, never of the customer's address: sending
// paused or suspended (account or configuration set), our MAIL FROM domain, a missing
// configuration set or identity, the function's IAM grant or credentials. Fixed on our side,
// the same send works: retried by the queue, kept in the DLQ, never failed for good.
const OUR_ACCOUNT = new Set([
  'AccountSuspendedException',
  'SendingPausedException',
  'AccountSendingPausedException',
  'ConfigurationSetSendingPausedException',
  'ConfigurationSetDoesNotExistException',
  'MailFromDomainNotVerifiedException',
  'MailFromDomainNotVerified',
  'NotFoundException',
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'MissingAuthenticationToken',
  'IncompleteSignature',
]);
const TRANSIENT = new Set([
  'TooManyRequestsException',
  'LimitExceededException',
  'Throttling',
  'ThrottlingException',
  'ExpiredTokenException',
  'RequestTimeout',
  'RequestTimeoutException',
]);

type AwsError = { name?: unknown; $metadata?: { httpStatusCode?: unknown }; $fault?: unknown };

/**
 * Maps an SES (or network) failure to a SendError; only the error name and status go out.
 * `uncertain` when SES may have taken the mail: no answer after the request was written (a
 * timeout, a reset; noAnswerError), a gateway's 502 or 504, or a 500 (InternalFailure: an
 * unknown failure, after the mail may have been accepted).
 */
export function sesSendError(error: unknown): SendError {
  const aws = (typeof error === 'object' && error !== null ? error : {}) as AwsError;
  const name = typeof aws.name === 'string' ? aws.name : 'Error';
  const status = typeof aws.$metadata?.httpStatusCode === 'number' ? aws.$metadata.httpStatusCode : undefined;
  const ours = OUR_ACCOUNT.has(name);
  let permanent: boolean;
  let uncertain = false;
  let detail = '';
  if (ours) permanent = false;
  else if (PERMANENT.has(name)) permanent = true;
  else if (TRANSIENT.has(name)) permanent = false;
  // No HTTP status: the request never got an answer (DNS, refused, reset, timeout).
  else if (status === undefined) {
    permanent = false;
    const noAnswer = noAnswerError(error, 0, 'SES');
    uncertain = noAnswer.uncertain;
    const code = (error as { code?: unknown }).code;
    detail = `${typeof code === 'string' ? ` ${code}` : ''}${uncertain ? ', perhaps after the request was sent' : ''}`;
  } else if (status >= 500 || status === 429) {
    permanent = false;
    uncertain = status === 500 || gatewayLostAnswer(status);
  } else permanent = aws.$fault === 'client';
  return new SendError(`SES SendEmail failed: ${name}${status ? ` (HTTP ${status})` : ''}${detail}`, {
    permanent,
    ours,
    uncertain,
    providerCode: name,
    cause: error,
  });
}

/**
 * Where the customer's reply to our mail should go: the address of ours they wrote to
 * (`OutboundText.from`: the stack's mail domain, Mailgun's route), which brings it back to
 * Switchboard, when it is not the sending address itself (SES_FROM_ADDRESS, often a person's
 * or the company's main domain, which no route may bring back). Undefined when it is the same,
 * or not a mailbox SES can name.
 */
function replyToOf(message: OutboundText, from: MailAddress, to: MailAddress): MailAddress | undefined {
  const wroteTo = parseMailbox(message.from);
  if (!wroteTo) return undefined;
  const same = (a: string, b: string) => canonicalAddress(a) === canonicalAddress(b);
  if (same(wroteTo.address, from.address) || same(wroteTo.address, to.address)) return undefined;
  const name = message.senderName ?? from.name;
  return name ? { address: wroteTo.address, name } : { address: wroteTo.address };
}

/**
 * Sends acknowledgements as raw MIME through SESv2 SendEmail (Content.Raw), threaded under
 * the customer's mail (`message.thread`: In-Reply-To, References, `Re:` subject) and marked
 * `Auto-Submitted: auto-replied`; without a thread it goes out unthreaded under `subject`.
 * Retries within the call only what SES surely did not take (throttling, 503, a connection that
 * never opened); a send SES may have taken is never repeated in the call (SendError.uncertain).
 */
export function createSesSender(options: SesSenderOptions): ChannelSender {
  const { client, configurationSetName, now = () => new Date() } = options;
  const from = parseMailbox(options.from);
  // Fail at start-up, not on the first acknowledgement.
  if (!from) throw new SwitchboardError('CONFIG_INVALID', 'The SES sender address is not a mailbox');

  return {
    async send(message) {
      const to = parseMailbox(message.to);
      if (!to) throw new SendError('The recipient is not an address SES can send to', { permanent: true });
      const original = message.thread?.subject?.trim();
      // A person's reply to a mail without a subject still says what it is.
      const subject = original ? replySubject(original) : message.subject?.trim() || replySubject('');
      const raw = composeReply({
        // Under the name of the person who signs it (the verified address stays): a letter
        // signed by Piotr must not come from "Anna Kowalska".
        from: message.senderName ? { ...from, name: message.senderName } : from,
        to,
        replyTo: replyToOf(message, from, to),
        subject,
        text: message.text,
        thread: message.thread,
        date: now(),
        automatic: message.automatic === true,
      });
      const input: SesSendEmailInput = {
        FromEmailAddress: from.address,
        Destination: { ToAddresses: [to.address] },
        Content: { Raw: { Data: new TextEncoder().encode(raw) } },
        ...(configurationSetName ? { ConfigurationSetName: configurationSetName } : {}),
      };
      return retryWithinBudget(async () => {
        try {
          const output = await client.sendEmail(input);
          const receipt: SendReceipt = { providerMessageId: output.MessageId ?? null, status: 'queued' };
          return { done: true, value: receipt };
        } catch (error) {
          return { done: false, error: sesSendError(error) };
        }
      }, RETRY);
    },
  };
}
