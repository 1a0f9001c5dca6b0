// What the page holds in this tab's memory (and the key, drafts, unanswered replies and notes, in
// sessionStorage): one object, read and changed by the other modules.

import { keptNoteDrafts, keptReplyDrafts } from './kept-drafts.js';

export const KEY_STORAGE = 'switchboard.apiKey';

export const state = {
  // sessionStorage: the key lives as long as this tab, and is never sent anywhere but /api.
  apiKey: sessionStorage.getItem(KEY_STORAGE),
  /** The conversation the agent chose (the address's #id): what each poll reads, or null. */
  openId: null,
  /**
   * The conversation on the right (title, messages, reply box), or null while the chosen one is
   * not read yet: reply and resolve act on this one, never on the chosen one.
   */
  shownId: null,
  /** The receipt time of the newest message shown on the right: a resolve says what it saw. */
  seenUntil: null,
  /** The shown conversation's replyFailure (an agent's reply the customer did not get), or null. */
  replyFailure: null,
  /**
   * The messages shown on the right, oldest first, with no gap between them: each poll merges
   * the latest page in (by id: a message once shown stays, a newer copy of it replaces it), and
   * "Show earlier messages" adds the page before the oldest.
   */
  messages: [],
  /** The cursor of the messages older than those shown (null: there are none). */
  cursor: null,
  /**
   * Replies sent without an answer yet (the network failed, a 5xx, still running), by
   * conversation id: { text, key, keyTag, sending }. Until one is answered its text is locked
   * and Send sends it again under the same Idempotency-Key, so it reaches the customer once at
   * most, whatever the agent does meanwhile (an edited text would be a second reply if the first
   * went). They are the agent's text, not the key's data: a key forgotten and pasted again finds
   * them (found at stop 25: forgetting the key mid-send dropped the reply, and the agent's second
   * try went under a new Idempotency-Key, twice to the customer). `keyTag` tells the API key it
   * went under (the API keeps Idempotency-Keys per API key); `sending`, that its request runs.
   * Kept in this tab's sessionStorage as well (kept-unanswered.js): a reload finds them again.
   */
  unanswered: new Map(),
  /**
   * Replies refused in a resolved conversation (409 CONTACT_HAS_OPEN_CONVERSATION), by the id of
   * the customer's open one they move to: the text, kept until that conversation's reply box
   * shows it (found at stop 25: a failed read of the open one lost it), and held back while the
   * box holds that conversation's own unanswered reply, which Send must send first. Dropped
   * with the key, as drafts are: it never went.
   */
  moved: new Map(),
  /**
   * What the agent typed and has not sent, by `${keyTag} ${conversation id}`: the box gets it back
   * when that conversation is shown again (found at stop 26: a look at another conversation lost
   * the half-typed reply). Kept in this tab's sessionStorage as well (kept-drafts.js: found at
   * stop 35, a reload lost it), and dropped with the key, from both: customers' words must not
   * outlive the key on a shared computer.
   */
  drafts: keptReplyDrafts(),
  /**
   * The conversations whose resolve runs: pressed again meanwhile it is not sent twice. What is in
   * flight is per conversation (a reply's is `unanswered`'s `sending`), never the page's: one
   * slow answer must not lock another conversation's buttons (found at stop 26: one flag for the
   * page disabled Send everywhere while any reply ran).
   */
  resolving: new Set(),
  /**
   * Who the key is (me.js, GET /api/me): { assignee, name }, both null for a key without a
   * person; null until read, and again once the key is forgotten.
   */
  me: null,
  /**
   * The business's named people (assignee.js, GET /api/people): [{ assignee, name }], [] when the
   * server lists none; null until read, and again once the key is forgotten.
   */
  people: null,
  /** The shown conversation's assignee (null: nobody), as the last read of it said. */
  assignee: null,
  /** Internal notes typed and not added, by `${keyTag} ${conversation id}`: kept and dropped as drafts are. */
  noteDrafts: keptNoteDrafts(),
  /**
   * A note sent without an answer (the network failed, a 5xx, the key forgotten before it came),
   * by conversation id: { text, key, keyTag }. Added again with the same text under the same API
   * key it goes under the same Idempotency-Key, so it is stored once. Kept across "Forget key" as
   * unanswered replies are (found at stop 29: a note whose key was forgotten mid-send, added again
   * once the key was back, went under a new Idempotency-Key and was stored twice). Kept in this
   * tab's sessionStorage as well (kept-unanswered.js), as unanswered replies are.
   */
  unansweredNotes: new Map(),
  /** The conversations whose assignment or note is being sent: pressed again meanwhile, nothing is sent twice. */
  busy: new Set(),
  /** How many pages of the list are shown: "Show more conversations" adds one, each poll reads them all. */
  listPages: 1,
  /** The signal of the session whose poll is running, or null: a slow server must not pile up polls. */
  refreshing: null,
};
