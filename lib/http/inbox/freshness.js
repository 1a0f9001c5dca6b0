// Which answers are still news. The page reads a conversation and the list on each poll, on a
// click, and back after each action; those reads overlap, and an answer may come after one given
// later (found at stop 35: a poll's read begun before a resolve came after the resolve's own
// read-back, and put Resolve back on screen, and the customer back in the waiting list). Each read
// takes a number when it begins; what is shown, and each action's answer, raises the number its
// subject has reached; an answer with a lower number tells of a state already past, and is dropped.

/** The list on the left, as a subject (conversations are subjects by their id). */
export const LIST = 'list';

let counter = 0;

/** Per subject, the number of the newest state shown or made (by an action's answer). */
const reached = new Map();

/** A read begins: its number. */
export const readBegins = () => ++counter;

/** Whether the answer of read `number` about `subject` is older than what is shown or done since. */
export const outdated = (subject, number) => number < (reached.get(subject) ?? 0);

/** Read `number`'s answer about `subject` is on screen: any read begun before it is outdated. */
export function shownAt(subject, number) {
  if (!outdated(subject, number)) reached.set(subject, number);
}

/**
 * An action on conversation `id` (a reply, a resolve, a reopen, an assignment, a note) was
 * answered: every read of it, and of the list, begun before the answer may tell of the state
 * before it (the read-back after the action shows the state now).
 */
export function changed(id) {
  const now = ++counter;
  reached.set(id, now);
  reached.set(LIST, now);
}
