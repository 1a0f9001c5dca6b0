// What the agent typed and has not sent (state.drafts, state.noteDrafts), kept in this tab's
// sessionStorage as well as in its memory: a reload must not lose a half-typed reply or note
// (found at stop 35: a look at another conversation kept them, a reload did not).
//
// sessionStorage, as the key (state.js) and the unanswered replies (kept-unanswered.js): it
// lives as long as this tab, so the customer's words leave the computer's storage when the tab
// is closed; and "Forget key" clears it as it clears the memory. One item per draft, named by
// `${keyTag} ${conversation id}` (api.js's keyTag, a hash, never the key), holding the text.

/** The name of a draft as reply-box.js's draftKey writes it. */
const DRAFT_KEY = /^\d{1,16} conv_[0-9a-z]{26}$/;

/** A Map of drafts that keeps each change in this tab's storage under `prefix`. */
class KeptDrafts extends Map {
  constructor(prefix) {
    super();
    this.prefix = prefix;
    restore(this, prefix);
  }

  set(key, text) {
    super.set(key, text);
    try {
      sessionStorage.setItem(this.prefix + key, text);
    } catch {
      // Storage full or switched off: the tab's memory still holds it until a reload.
    }
    return this;
  }

  delete(key) {
    stored(() => sessionStorage.removeItem(this.prefix + key));
    return super.delete(key);
  }

  clear() {
    // Every draft of this kind in storage, also one this tab's memory never read back.
    stored(() => {
      for (const name of Object.keys(sessionStorage)) {
        if (name.startsWith(this.prefix)) sessionStorage.removeItem(name);
      }
    });
    super.clear();
  }
}

/** Runs `change` on this tab's storage, which may be switched off. */
function stored(change) {
  try {
    change();
  } catch {
    // No storage: nothing kept there to change.
  }
}

/** The drafts this tab kept before a reload, back in `drafts` (what is unreadable is removed). */
function restore(drafts, prefix) {
  stored(() => {
    for (const name of Object.keys(sessionStorage).filter((kept) => kept.startsWith(prefix))) {
      const key = name.slice(prefix.length);
      const text = sessionStorage.getItem(name);
      if (DRAFT_KEY.test(key) && text?.trim()) Map.prototype.set.call(drafts, key, text);
      else sessionStorage.removeItem(name);
    }
  });
}

/** The reply drafts, by `${keyTag} ${conversation id}`. */
export const keptReplyDrafts = () => new KeptDrafts('switchboard.draft.');
/** The note drafts, by `${keyTag} ${conversation id}`. */
export const keptNoteDrafts = () => new KeptDrafts('switchboard.noteDraft.');
