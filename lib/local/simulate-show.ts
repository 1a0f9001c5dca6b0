// What npm run simulate shows after posting: a conversation and its acknowledgement, from the agents' API.

type ApiConversation = {
  id: string;
  contact: { key: string };
  replyBy: string | null;
  ack: { state: string; reason?: string } | null;
};
type ApiMessage = {
  kind: string;
  direction: string;
  channel: string;
  text: string;
  delivery?: { status: string };
};

/** Polls the agents' API until the newest conversation's acknowledgement settled (at most 5 s). */
export async function showLatestConversation(target: string, token: string): Promise<number> {
  const headers = { authorization: `Bearer ${token}` };
  for (let i = 0; i < 50; i++) {
    const list = (await (
      await fetch(`${target}/api/conversations?status=open&limit=1`, { headers })
    ).json()) as {
      items: ApiConversation[];
    };
    const conversation = list.items[0];
    if (conversation && conversation.ack?.state !== 'pending' && conversation.ack?.state !== 'sending') {
      return show(target, headers, conversation);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  process.stdout.write('Stored; the acknowledgement has not left yet (see the server log).\n');
  return 0;
}

/** Shows the newest conversation of one contact (GET /api/contacts?key=…). */
export async function showConversationOf(target: string, token: string, contactKey: string): Promise<number> {
  const headers = { authorization: `Bearer ${token}` };
  const query = new URLSearchParams({ key: contactKey });
  const response = await fetch(`${target}/api/contacts?${query}`, { headers });
  const conversation = response.ok
    ? ((await response.json()) as { conversations: ApiConversation[] }).conversations[0]
    : undefined;
  if (!conversation) {
    process.stdout.write(`No conversation of ${contactKey} to show.\n`);
    return 0;
  }
  return show(target, headers, conversation);
}

async function show(
  target: string,
  headers: Record<string, string>,
  conversation: ApiConversation,
): Promise<number> {
  const detail = (await (
    await fetch(`${target}/api/conversations/${conversation.id}`, { headers })
  ).json()) as {
    messages: ApiMessage[];
  };
  process.stdout.write(
    `\nconversation ${conversation.id} (${conversation.contact.key}), reply by ${conversation.replyBy}, ack ${conversation.ack?.state}${conversation.ack?.reason ? ` (${conversation.ack.reason})` : ''}\n`,
  );
  for (const message of detail.messages) {
    const delivery = message.delivery ? ` [${message.delivery.status}]` : '';
    // A call has no text: its line ends with what it was.
    const text = message.text === '' ? '' : `: ${message.text.replace(/\n/g, '\n    ')}`;
    process.stdout.write(`  ${message.direction} ${message.kind} (${message.channel})${delivery}${text}\n`);
  }
  return 0;
}
