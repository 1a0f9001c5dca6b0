// Assigning the conversation shown (POST /api/conversations/:id/assign): to the key's own person,
// to one of the business's people or another name typed, or to nobody. Each answer is about the
// conversation it was sent for.

import { refusalText } from './actions.js';
import { api, networkTrouble, newIdempotencyKey, offline } from './api.js';
import { assigneeLabel, assigneeTyped, showAssignError, showAssignment } from './assignee.js';
import { openConversation } from './conversation.js';
import { changed } from './freshness.js';
import { t } from './i18n.js';
import { refreshList } from './list.js';
import { $, setStatus } from './page.js';
import { state } from './state.js';

$('assign-form').addEventListener('submit', (event) => {
  event.preventDefault();
  // A listed person's name (or id) typed goes as their id, the assignee /api/me and the list use.
  assignShown(assigneeTyped($('assignee').value.trim()) || null).catch(networkTrouble);
});
$('assign-me').addEventListener('click', () => assignShown(state.me?.assignee ?? null).catch(networkTrouble));
$('unassign').addEventListener('click', () => assignShown(null).catch(networkTrouble));

async function assignShown(assignee) {
  const id = state.shownId;
  const busy = `assign ${id}`;
  if (!id || state.busy.has(busy)) return;
  const who = $('conversation-title').textContent;
  state.busy.add(busy);
  for (const button of ['assign', 'assign-me', 'unassign']) $(button).disabled = true;
  showAssignError(null);
  let result;
  try {
    // A new key each time: an assignment sent twice sets the same assignee twice, harmlessly.
    result = await api(`/api/conversations/${encodeURIComponent(id)}/assign`, {
      method: 'POST',
      body: { assignee },
      idempotencyKey: newIdempotencyKey(),
    }).catch(offline);
  } finally {
    state.busy.delete(busy);
  }
  const shown = id === state.shownId;
  if (!result?.ok) {
    const what = assignee ? 'refusal.notAssigned' : 'refusal.notUnassigned';
    const text = result ? refusalText(what, result) : () => t('refusal.network', { what: t(what) });
    if (shown) {
      showAssignError(text);
      // The buttons as they were: the conversation has not changed.
      showAssignment({ id, assignee: state.assignee }, false);
    } else setStatus(() => t('status.about', { who, text: text() }));
    return;
  }
  // A poll's read begun before this answer would put the earlier assignee back.
  changed(id);
  if (shown) {
    delete $('assignee').dataset.edited;
    showAssignment(result.data.conversation, false);
  }
  const named = result.data.conversation.assignee;
  setStatus(
    named
      ? () => t('assign.done', { who, assignee: assigneeLabel(named) })
      : () => t('assign.undone', { who }),
    { passes: true },
  );
  await Promise.all([state.openId ? openConversation(state.openId, false) : null, refreshList()]).catch(
    networkTrouble,
  );
}
