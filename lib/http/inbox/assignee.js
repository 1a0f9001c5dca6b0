// Who handles a conversation: who the pasted key is (GET /api/me: the person its replies are
// signed by, and the assignee that means them, for "Assign to me", the "Assigned to me" view and
// "(you)" beside their name), the business's named people (GET /api/people: offered by name in
// the assign field, whose assignee is their id), and the assign form as the shown conversation
// has it. Acting on the form is assign.js's.

import { api, offline } from './api.js';
import { onLanguageChange, say, t } from './i18n.js';
import { $ } from './page.js';
import { state } from './state.js';

/**
 * Reads who the key is, once per key (state.me: null until read). A server without /api/me
 * (404), or a failed read, leaves the page without "me": assigning by name still works.
 */
export async function loadMe() {
  if (!state.apiKey || state.me) return;
  const result = await api('/api/me').catch(offline);
  if (!result) return;
  state.me = result.ok
    ? { assignee: result.data.assignee ?? null, name: result.data.agent?.name ?? null }
    : { assignee: null, name: null };
  // A server without /api/people (404), or a failed read: nobody offered, names typed still work.
  const people = await api('/api/people').catch(offline);
  state.people = people?.ok ? people.data.items.map(({ assignee, name }) => ({ assignee, name })) : [];
}

/** A name the way people type it, as the server folds it: case and spacing tell nobody apart. */
const folded = (text) => text.trim().replace(/\s+/g, ' ').toLocaleLowerCase();

/** The listed person an assignee (their id) or a name typed means, or undefined. */
export function personOf(assignee) {
  if (!assignee) return undefined;
  const wanted = folded(assignee);
  return (state.people ?? []).find((p) => p.assignee === assignee || folded(p.name) === wanted);
}

/** The assignee a name typed in the field sends: a listed person's id, else the text as typed. */
export const assigneeTyped = (text) => personOf(text)?.assignee ?? text;

/** The people offered in the assign field (its datalist), by name. */
function showPeople() {
  $('people').replaceChildren(
    ...(state.people ?? []).map((person) => {
      const option = document.createElement('option');
      option.value = person.name;
      return option;
    }),
  );
}

/** Whether `assignee` is the key's own person. */
export const isMine = (assignee) => Boolean(assignee) && assignee === state.me?.assignee;

/** An assignee as the agent reads it: their own name and "(you)", a listed person's name, else as stored. */
export function assigneeLabel(assignee) {
  if (!assignee) return null;
  const name = personOf(assignee)?.name;
  return isMine(assignee)
    ? t('assignee.you', { name: state.me.name ?? name ?? assignee })
    : (name ?? assignee);
}

/** Says under the key whose it is (or that it names nobody, so "Assign to me" cannot work). */
export function showWhoAmI() {
  const me = state.me;
  $('whoami').textContent = !me ? '' : me.name ? t('key.signedIn', { name: me.name }) : t('key.nobody');
  showPeople();
  const mine = $('view').querySelector('option[value="mine"]');
  mine.disabled = !me?.assignee;
  if (mine.disabled && $('view').value === 'mine') $('view').value = 'awaiting';
}

/**
 * The assign form for the conversation just read: its assignee in the field (not while the agent
 * edits it: a poll must not take their typing away), and the buttons that apply.
 */
export function showAssignment(conversation, switched) {
  state.assignee = conversation.assignee ?? null;
  const field = $('assignee');
  if (switched) delete field.dataset.edited;
  if (!field.dataset.edited) field.value = personOf(state.assignee)?.name ?? state.assignee ?? '';
  if (switched) showAssignError(null);
  $('assign-form').hidden = false;
  const busy = state.busy.has(`assign ${conversation.id}`);
  $('assign').disabled = busy;
  $('assign-me').disabled = busy || !state.me?.assignee || isMine(state.assignee);
  showWhyNotMine();
  $('unassign').disabled = busy || !state.assignee;
}

$('assignee').addEventListener('input', () => {
  $('assignee').dataset.edited = 'true';
});

export function clearAssignment() {
  state.assignee = null;
  $('assign-form').hidden = true;
  $('assignee').value = '';
  delete $('assignee').dataset.edited;
  showAssignError(null);
}

/** Says `text` (a function of the language's words) under the assign form, or nothing (null). */
export function showAssignError(text) {
  $('assign-error').hidden = !text;
  say($('assign-error'), text);
}

/**
 * Why "Assign to me" does nothing for a key that names no person: in words beside it, and as the
 * button's description (found at stop 28: a title attribute only, which touch screens never show
 * and many screen readers never read).
 */
function showWhyNotMine() {
  const nobody = Boolean(state.me) && !state.me.assignee;
  $('assign-me-why').hidden = !nobody;
  say($('assign-me-why'), nobody ? () => t('assign.meNobody') : null);
  if (nobody) $('assign-me').setAttribute('aria-describedby', 'assign-me-why');
  else $('assign-me').removeAttribute('aria-describedby');
}

onLanguageChange(showWhoAmI);
