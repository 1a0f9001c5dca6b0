import type { Channel } from '#lib/domain/channel.ts';
import { TEMPLATE_PARAMETER_LIMIT } from '#lib/domain/reply-template.ts';
import { fitsLimit, textLimitOf } from '#lib/domain/text-limits.ts';
import type { OutboundText } from '#lib/ports/channel-sender.ts';
import { SendError } from '#lib/ports/errors.ts';

/**
 * A text longer than the channel takes is refused before the call, permanently, never cut: a cut
 * loses the signature, and what we store would not be what the customer got. Agents' replies
 * are checked by the API first (422 TEXT_TOO_LONG); acks and notices are far shorter.
 */
export function refuseTooLong(
  provider: string,
  channel: Channel,
  message: OutboundText,
  label: string,
): void {
  if (message.template) {
    if (message.template.parameters.every((parameter) => fitsLimit(parameter, TEMPLATE_PARAMETER_LIMIT)))
      return;
  } else if (fitsLimit(message.text, textLimitOf(provider, channel))) return;
  throw new SendError(`${label}: the text is longer than ${channel} takes in one message`, {
    permanent: true,
    providerCode: 'too-long',
  });
}
