import { type BusinessConfig, foldedName, type Person } from '#lib/domain/business-config.ts';
import { businessCalendar, personCalendar } from '#lib/domain/calendar.ts';
import type { ReplyPromise } from '#lib/domain/promise.ts';

/** Who signs a message to a customer: a person's name and their direct contact. */
export type Signer = Pick<Person, 'name' | 'phone' | 'email'>;

const signerOf = ({ name, phone, email }: Signer): Signer => ({
  name,
  ...(phone === undefined ? {} : { phone }),
  ...(email === undefined ? {} : { email }),
});

const listed = (config: BusinessConfig) => [...config.people.rota, ...config.people.agents];

/**
 * The person an agent name (or id) names among those who may sign, the rota and
 * `people.agents`, each listed with a direct contact; undefined when it names nobody listed.
 * Never ambiguous: the configuration refuses a name that is another person's id.
 */
export function listedSigner(config: BusinessConfig, agentName: string): Signer | undefined {
  const person = listedPerson(config, agentName);
  return person ? signerOf(person) : undefined;
}

/** The listed person (rota or `people.agents`) an agent name or id names, as listedSigner finds them. */
export function listedPerson(
  config: BusinessConfig,
  agentName: string,
): Pick<Person, 'id' | 'name'> | undefined {
  const wanted = foldedName(agentName);
  return listed(config).find((p) => foldedName(p.name) === wanted || p.id === wanted);
}

/** The listed person (rota or `people.agents`) with this id. */
export function listedById(config: BusinessConfig, id: string): Signer | undefined {
  const person = listed(config).find((p) => p.id === id);
  return person ? signerOf(person) : undefined;
}

/**
 * The name an API key's agent goes by in what others read (events, notes): the person as listed
 * now, by the id the key stored, so that a rename shows the name their replies are signed with;
 * the name the key stored when it kept no id (created before stop 26) or they are no longer listed.
 */
export function actingName(
  config: BusinessConfig,
  agent: { name: string | null; id?: string | null },
): string | null {
  return (agent.id ? listedById(config, agent.id)?.name : undefined) ?? agent.name;
}

/**
 * Who signs an agent's reply, always a named person with a direct contact. A key with an agent
 * signs as that person as listed (the rota or `people.agents`): by the id the key stored, so a
 * rename keeps signing as them (a key created before keys kept one: by its name or id);
 * null when the configuration no longer lists them, and the reply is refused: signing it as
 * someone else would tell the customer to call a person who never wrote it. A key without one
 * (the bootstrap AGENT_API_TOKEN the reference inbox uses, a tool's key) signs as the person
 * the conversation's promise named, the one the customer was told would answer, as listed now;
 * else (no promise, or that person is no longer listed: their direct line may reach nobody) the
 * rota's default person.
 */
export function replySigner(
  config: BusinessConfig,
  input: { agentName: string | null; agentId?: string | null; promise: ReplyPromise | null },
): Signer | null {
  if (input.agentId) return listedById(config, input.agentId) ?? null;
  if (input.agentName) return listedSigner(config, input.agentName) ?? null;
  return signerOf(promisedPerson(config, input.promise));
}

/**
 * The person a promise named as the configuration lists them now (their current direct contact),
 * else (no promise, or no longer listed: their direct line may reach nobody) the rota's default
 * person: who signs an automatic message, and a reply through a key without an agent name.
 * Found by id only, never someone whose name happens to spell that id (they may have left
 * since, and a newcomer been listed by that first name). Without duty hours, as promises keep it.
 */
export function promisedPerson(config: BusinessConfig, promise: ReplyPromise | null): Person {
  const promised = promise?.signer;
  const person =
    (promised ? listed(config).find((p) => p.id === promised.id) : undefined) ??
    config.people.rota.find((p) => p.id === config.people.default) ??
    config.people.rota[0];
  if (!person) throw new RangeError('The rota is empty');
  const { hours: _hours, ...contact } = person as Person;
  return contact;
}

/**
 * The promise as an automatic message states it now: its time, signed by the promised person
 * as listed now, or the default person once they are not (promisedPerson). The same object
 * when nothing changed.
 */
export function signedNow(config: BusinessConfig, promise: ReplyPromise): ReplyPromise {
  const signer = promisedPerson(config, promise);
  return samePerson(signer, promise.signer) ? promise : { ...promise, signer };
}

function samePerson(a: Person, b: Person): boolean {
  return a.id === b.id && a.name === b.name && a.phone === b.phone && a.email === b.email;
}

/**
 * Everyone a key may name and a conversation is meant to be assigned to: the rota, then
 * `people.agents`, each once (the configuration refuses an id listed twice), with their direct
 * contact, which every message they sign states already.
 */
export function listedPeople(config: BusinessConfig): Array<Signer & { id: string; rota: boolean }> {
  return [
    ...config.people.rota.map((person) => ({ ...signerOf(person), id: person.id, rota: true })),
    ...config.people.agents.map((person) => ({ ...signerOf(person), id: person.id, rota: false })),
  ];
}

/**
 * How much of their shift the person signing a message must have left for "call me" to reach
 * them: a notice sent a minute before they leave would send the customer to a phone nobody
 * answers. Half an hour is time to read the notice and call.
 */
export const MIN_SHIFT_LEFT_MS = 30 * 60_000;

/**
 * When the person signing a message can be reached from `now`: `now` itself while they are at
 * work with at least MIN_SHIFT_LEFT_MS of their shift left, else the start of their next shift
 * (after a closure, a weekend, before their hours, or their shift ending within that time), by
 * their rota hours; by the opening hours for someone listed only among `people.agents` (no hours
 * of their own) or no longer listed.
 */
export function atWorkFrom(config: BusinessConfig, personId: string, now: Date): Date {
  const onRota = config.people.rota.some((p) => p.id === personId);
  const calendar = onRota ? personCalendar(config, personId) : businessCalendar(config);
  let end = calendar.intervalAt(now)?.end ?? now.getTime();
  // A shift through midnight is two intervals of two local days, one ending where the next
  // starts: it ends at the last of them (a week of them at most: a shift never ends else).
  for (let day = 0; day < 7; day += 1) {
    const next = calendar.intervalAt(new Date(end));
    if (!next) break;
    end = next.end;
  }
  if (end - now.getTime() >= MIN_SHIFT_LEFT_MS) return now;
  // Their shift's end (or now, off shift): the next one starts at or after it.
  return calendar.nextOpening(new Date(end));
}
