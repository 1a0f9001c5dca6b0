import { whatsappEnvelope, whatsappUserText } from './meta-factory.ts';

// A WhatsApp customer who changes their number (the whatsapp-number-change tests): Meta's
// "System messages webhook reference" `user_changed_number`, whose `from` is the number they
// had, `system.wa_id` the new one, beside a new BSUID (`user_id`) and the one it replaced
// (`previous_user_id`).

export const OLD = '48601234567';
export const NEW = '48601234999';
export const OLD_BSUID = 'PL.13491208655302741918';
export const NEW_BSUID = 'PL.88881208655302741918';

/**
 * The messages of one test file, their message ids told apart by `tag` (`wamid.number-change<tag>-<n>`,
 * `wamid.user-changed-number<tag>`): `text`, a WhatsApp Cloud text message from the old number (and
 * BSUID) or from the new ones, a second apart; `numberChanged`, Meta's system message that the user
 * changed their number from OLD to NEW (and got NEW_BSUID).
 */
export function numberChange(tag = '') {
  let sequence = 0;
  function text(body: string, at: 'old' | 'new') {
    sequence++;
    const user = at === 'old' ? { number: OLD, bsuid: OLD_BSUID } : { number: NEW, bsuid: NEW_BSUID };
    return whatsappUserText(body, user, `wamid.number-change${tag}-${sequence}`, 1763986400 + sequence);
  }
  const numberChanged = () =>
    whatsappEnvelope({
      messages: [
        {
          from: OLD,
          id: `wamid.user-changed-number${tag}`,
          timestamp: '1763986500',
          type: 'system',
          system: {
            body: `User Ewa Kowalska changed from ${OLD} to ${NEW}`,
            wa_id: NEW,
            type: 'user_changed_number',
            previous_user_id: OLD_BSUID,
            user_id: NEW_BSUID,
          },
        },
      ],
    });
  return { text, numberChanged };
}
