// What the API's codes mean to an agent, in English (reasons.js picks them), and what the page
// says about a reply, a resolve or an assignment the API refused or did not answer. The Polish
// twin is reasons-pl.js, with the same keys and {placeholders}.

export const enReasons = {
  'twilio.21211': 'the number is not valid',
  'twilio.21408': 'sending to that country is not enabled on our account',
  'twilio.21610': 'the customer unsubscribed (replied STOP)',
  'twilio.21612': 'this number cannot be reached from ours',
  'twilio.21614': 'the number is not a mobile number',
  'twilio.21635': 'the number is a landline',
  'twilio.30003': 'the phone is off or out of coverage',
  'twilio.30004': 'the message was blocked (the customer or their carrier blocks us)',
  'twilio.30005': 'the number does not exist or is no longer in use',
  'twilio.30006': 'a landline, or a carrier that cannot be reached',
  'twilio.30007': 'the carrier filtered it as spam',
  'twilio.30008': 'the carrier gave no reason',
  'twilio.63016': 'the WhatsApp 24-hour window was closed',
  'twilio.63003': 'the number is not on WhatsApp',
  'meta.131026': 'WhatsApp could not deliver it (the number may not be on WhatsApp)',
  'meta.131047': 'the 24-hour window was closed',
  'meta.131049': 'WhatsApp held it back to keep the customer from getting too many messages',
  'meta.131050': 'the customer stopped messages from us',
  'meta.551': 'the customer cannot be reached right now',
  'meta.131000': 'WhatsApp had a passing fault',
  'meta.131016': 'WhatsApp was briefly unavailable',
  'meta.130429': 'we sent too many messages at once',
  'meta.133004': 'WhatsApp was briefly unavailable',
  'error.known': '{text} (error {code})',
  'error.code': 'error {code}',

  'reason.opted-out': 'the customer opted out of our messages',
  'reason.channel-cannot-send': 'we cannot write back on this channel',
  'reason.recently-answered': 'someone replied a moment before',
  'reason.recently-acknowledged': 'the customer was acknowledged a moment before, in another conversation',
  'reason.anonymous-caller': 'the caller withheld their number',
  'reason.own-number': 'it came from one of our own numbers',
  'reason.own-address': 'it came from one of our own addresses',
  'reason.other-number': 'it was written to another number of our account',
  'reason.other-page': 'it was written to a Page or Instagram account of ours we hold no token for',
  'reason.automated-sender': 'it came from an automated sender',
  'reason.outside-window': 'the messaging window had closed',
  'reason.no-promise': 'no reply-by time could be given',
  'reason.answered': 'it was answered first',
  'reason.resolved': 'the conversation was resolved first',
  'reason.spoken-on-call': 'the reply-by time was spoken on the call',
  'reason.thanks': 'the customer only said thanks',
  'reason.edited': 'the customer edited a message they had sent',
  'reason.standby': 'another app of the Page was handling the customer',
  'reason.virus': 'the mail carried a virus',
  'reason.spam': 'the mail was spam',
  'reason.null-return-path': 'the mail was a bounce',
  'reason.delivery-report': 'the mail was a delivery report',
  'reason.system-sender': 'the mail came from a system address nobody reads',
  'reason.error': 'an error on our side',
  'reason.dead-lettered': 'it failed too often and waits in the dead-letter queue',
  'reason.CHANNEL_MISCONFIGURED':
    'sending on this channel is switched off until its configuration is completed (ops have an alarm); it is taken up again then',
  'reasons.keyword': 'the customer sent the keyword {keyword}',
  'reasons.automatic': 'it was an automatic reply or a list mail ({reason})',
  'reasons.undelivered': 'it was not delivered',
  'reasons.undeliveredWhy': 'it was not delivered: {why}',
  'reasons.unsent': 'it could not be sent',
  'reasons.unsentWhy': 'it could not be sent: {why}',
  'sendFailure.SEND_REJECTED': 'the provider refused it',
  'sendFailure.SEND_FAILED': 'the provider could not be reached or failed',
  'sendFailure.SEND_UNAUTHORIZED':
    'our provider account refused it (credentials or permissions: tell whoever runs Switchboard)',

  // Why the customer gets no acknowledgements or late notices (GET /api/conversations/{id} optedOut).
  'optOut.stop':
    'no automatic messages: the customer sent STOP (their START lifts it); your replies still go',
  'optOut.bounce':
    'no automatic mail: our mail to this address bounced for good; their next mail from it lifts this; your replies still go',
  'optOut.complaint': 'no automatic mail: the customer marked our mail as spam; your replies still go',
  'optOut.bounce-or-complaint':
    'no automatic mail: our mail to this address bounced for good or was marked as spam (recorded before Switchboard kept which); their mail does not lift this; your replies still go',
  'optOut.other': 'no automatic messages to this customer; your replies still go',
  'ack.failed': 'acknowledgement failed',
  'ack.skipped': 'no acknowledgement',
  'ack.retrying': 'acknowledgement not sent yet, retrying: {why}',
  'ack.spoken': 'acknowledgement {why}',
  'ack.pending': 'acknowledgement pending',
  'ack.sending': 'acknowledgement sending',
  'ack.sent': 'acknowledgement sent',
  'delivery.queued': 'queued',
  'delivery.sent': 'sent',
  'delivery.delivered': 'delivered',
  'delivery.read': 'read',
  'delivery.undelivered': 'undelivered',
  'delivery.failed': 'failed',
  'replyFailure.undelivered': 'was not delivered',
  'replyFailure.failed': 'could not be sent',
  'replyFailure.retryable': 'sent again, it may go through',

  'refusal.notSent': 'Not sent',
  'refusal.notResolved': 'Not resolved',
  'refusal.notReopened': 'Not reopened',
  'refusal.notAssigned': 'Not assigned',
  'refusal.notUnassigned': 'Not unassigned',
  'refusal.noteNotAdded': 'Note not added',
  'refusal.windowConfigure': '{what}: {message}.',
  'refusal.window':
    "{what}: {message}. Answer on another channel, or send a template from your provider's console.",
  'refusal.template':
    '{what}: {provider} refused the reply template {template} that replies after the 24-hour window go as{code}. It is a setting for ops to fix (whatsapp.replyTemplates in switchboard.config.json), nothing about the customer or your text. Your reply is kept: press Send again once it is fixed, or answer the customer another way meanwhile.',
  'refusal.templateConfigured': 'configured',
  'refusal.templateCode': ' (error {code})',
  'refusal.forbidden': '{what}: this key may read but not act (it lacks the "reply" scope).',
  'refusal.message': '{what} ({code}): {message}',
  'refusal.status': '{what}: the server answered {status}.',
  'refusal.network': '{what}: the network failed; try again.',
  'resolve.wrote': 'Not resolved: the customer wrote again while you were reading. Their message is below.',
  'resolve.wroteEarlier':
    'Not resolved: a message the customer sent earlier was recorded late and is further up. Show earlier messages to read it, then resolve.',
  'resolve.wroteAway': '{who}: not resolved: the customer wrote again while you were reading.',
  'moved.notOpened':
    'Not sent: this conversation is resolved and the customer has written again since. Could not open the conversation they wait in yet: your reply is kept, and comes into its box once it opens.',

  'unanswered.network':
    'The network failed: the reply may or may not have gone. Press Send again: it is safe.',
  'unanswered.server':
    'The server failed ({why}): the reply may or may not have gone. Press Send again: it is safe.',
  'unanswered.running':
    'Still sending: Switchboard is still working on this reply. Wait a moment, then press Send again to see how it went: it is safe.',
  'unanswered.again':
    'This reply was sent but no answer came back: it may or may not have gone. Press Send again: it is safe.',
  'unanswered.sending': 'Still sending: no answer has come back yet. It shows here when it does.',
  'unanswered.otherKey':
    'This reply was sent with another API key and no answer came back: it may have reached the customer. Read the messages above before you send it: from this key it would be a new reply.',
  'moved.shown':
    'Not sent: this conversation is resolved and the customer has written again since. Their open conversation is shown now, with your reply kept: read it, then press Send to answer there.',
  'moved.held':
    'Your reply from their resolved conversation is kept: it comes into the box once this one is answered.',
  'moved.next':
    'Your reply from their resolved conversation is in the box now: read it, then press Send to send it too.',
  'moved.draft':
    'The draft you had begun here follows it, after a blank line: make them the one reply you mean before you send.',
};
