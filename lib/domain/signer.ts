import type { BusinessConfig, Person } from '#lib/domain/business-config.ts';
import type { ReplyPromise } from '#lib/domain/promise.ts';

/** Who signs a message to a customer: a person's name and, when known, their direct contact. */
export type Signer = Pick<Person, 'name' | 'phone' | 'email'>;

const folded = (name: string): string => name.trim().replace(/\s+/g, ' ').toLocaleLowerCase();

/** The rota person an agent name (or rota id) names, without their duty hours; undefined when none does. */
function onRota(config: BusinessConfig, name: string): Signer | undefined {
  const wanted = folded(name);
  const person = config.people.rota.find((p) => folded(p.name) === wanted || p.id === wanted);
  if (!person) return undefined;
  const { id: _id, hours: _hours, ...signer } = person;
  return signer;
}

/**
 * Who signs an agent's reply. A key with an agent name signs as that person, with their direct
 * contact when they are on the rota (matched by name or id; anyone else signs with the name
 * alone). A key without one (the bootstrap AGENT_API_TOKEN the reference inbox uses, a tool's
 * key) never sends an unsigned reply: it signs as the person the conversation's promise named,
 * the one the customer was told would answer (their current rota entry when they are still on
 * it), else the rota's default person.
 */
export function replySigner(
  config: BusinessConfig,
  input: { agentName: string | null; promise: ReplyPromise | null },
): Signer {
  if (input.agentName) return onRota(config, input.agentName) ?? { name: input.agentName.trim() };
  const promised = input.promise?.signer;
  if (promised) {
    const { id: _id, hours: _hours, ...signer } = promised;
    return onRota(config, promised.id) ?? signer;
  }
  const fallback = config.people.rota.find((p) => p.id === config.people.default) ?? config.people.rota[0];
  if (!fallback) throw new RangeError('The rota is empty');
  const { id: _id, hours: _hours, ...signer } = fallback;
  return signer;
}
