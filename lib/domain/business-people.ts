import { z } from 'zod';
import { WeeklyHoursSchema } from './business-hours.ts';

// Who answers customers: the rota the promises name, and the other agents who may sign replies.

const personFields = {
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, { error: 'must be lower-case letters, digits, - or _' }),
  // Acks are signed by a person, never by "the team": a customer can ask for someone by name.
  name: z
    .string()
    .trim()
    .min(1)
    .refine(
      (name) => !/(?<!\p{L})(team|zespół|zespol|support|obsługa|obsluga|dział|dzial)(?!\p{L})/iu.test(name),
      {
        error: (iss) => `"${String(iss.input)}" is not a person's name`,
      },
    ),
  phone: z.string().trim().min(1).optional(),
  email: z.email().optional(),
};
const reachable = {
  error: 'needs a phone or an email so customers can reach the signer directly',
} as const;
const hasContact = (p: { phone?: string | undefined; email?: string | undefined }) =>
  p.phone !== undefined || p.email !== undefined;

export const PersonSchema = z
  .strictObject({
    ...personFields,
    /** Duty hours; the business hours when absent. Always clipped to the business calendar. */
    hours: WeeklyHoursSchema.optional(),
  })
  .refine(hasContact, reachable);
export type Person = z.infer<typeof PersonSchema>;

/** Someone who answers customers and signs their replies without being on duty for promises (no hours). */
const AgentSchema = z.strictObject(personFields).refine(hasContact, reachable);

/** A name the way people type it: case and spacing do not tell two people apart. */
export const foldedName = (name: string): string => name.trim().replace(/\s+/g, ' ').toLocaleLowerCase();

export const PeopleSchema = z
  .strictObject({
    default: z.string(),
    rota: z.array(PersonSchema).min(1),
    /**
     * Everyone else who may sign a reply with an API key of their own (a manager, a specialist):
     * listed with a direct contact like the rota, never named by a promise. A key may name only
     * someone listed here or on the rota.
     */
    agents: z.array(AgentSchema).default([]),
  })
  .superRefine((people, ctx) => {
    const listed = [
      ...people.rota.map((person, index) => ({ person, path: ['rota', index] })),
      ...people.agents.map((person, index) => ({ person, path: ['agents', index] })),
    ];
    listed.forEach(({ person, path }, index) => {
      const earlier = listed.slice(0, index);
      if (earlier.some((other) => other.person.id === person.id)) {
        ctx.addIssue({
          code: 'custom',
          message:
            path[0] === 'rota' ? `"${person.id}" is on the rota twice` : `"${person.id}" is listed twice`,
          path: [...path, 'id'],
        });
      }
      const namesake = earlier.find((other) => foldedName(other.person.name) === foldedName(person.name));
      if (namesake) {
        ctx.addIssue({
          code: 'custom',
          message: `"${namesake.person.name}" is listed twice: a key naming them could sign with either contact`,
          path: [...path, 'name'],
        });
      }
      // A key names its signer by name or id: a name that spells someone else's id names two people.
      const idNamesake = listed.find(
        (other) => other.person !== person && other.person.id === foldedName(person.name),
      );
      if (idNamesake) {
        ctx.addIssue({
          code: 'custom',
          message: `"${person.name}" is also the id of ${idNamesake.person.name}: a key naming "${person.name}" could sign as either; list them by a fuller name`,
          path: [...path, 'name'],
        });
      }
    });
    const ids = people.rota.map((p) => p.id);
    if (!ids.includes(people.default)) {
      ctx.addIssue({
        code: 'custom',
        message: `"${people.default}" is not on the rota (${ids.join(', ')})`,
        path: ['default'],
      });
    }
  });
