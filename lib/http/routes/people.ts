import { Hono } from 'hono';
import { z } from 'zod';
import type { BusinessConfig } from '#lib/domain/business-config.ts';
import { personCalendar } from '#lib/domain/calendar.ts';
import { listedPeople } from '#lib/domain/signer.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { AuthEnv } from '../auth.ts';

/** One of the business's named people, as GET /api/people lists them. */
export const PersonViewSchema = z
  .object({
    assignee: z.string().meta({
      description:
        'What assigns a conversation to them (`POST …/assign {assignee}`, `GET /api/conversations?assignee=`): their id in the business configuration, the `assignee` GET /api/me gives their own key',
    }),
    name: z.string().meta({ description: 'Their name, as the business configuration lists it now' }),
    rota: z.boolean().meta({
      description: 'On the rota (promises name them); false for `people.agents`, who sign replies only',
    }),
    onDuty: z.boolean().meta({
      description:
        'On duty now: their hours within the business calendar (holidays and closures off); always false off the rota',
    }),
    phone: z
      .string()
      .optional()
      .meta({ description: 'Their direct phone, as the messages they sign state it' }),
    email: z
      .string()
      .optional()
      .meta({ description: 'Their direct email, as the messages they sign state it' }),
  })
  .meta({ description: 'A named person of the business' });

export const PeopleSchema = z
  .object({ items: z.array(PersonViewSchema) })
  .meta({ description: 'The rota, then `people.agents`, each once, in the configuration’s order' });
export type PeopleView = z.infer<typeof PeopleSchema>;

/**
 * GET /api/people: whom a tool offers to assign a conversation to, by name. Read from the
 * business configuration and the clock: no store read.
 */
export function peopleRoutes(deps: { business: BusinessConfig; clock: Clock }): Hono<AuthEnv> {
  const routes = new Hono<AuthEnv>();
  routes.get('/', (c) => {
    const now = deps.clock.now();
    const body: PeopleView = {
      items: listedPeople(deps.business).map(({ id, name, rota, phone, email }) => ({
        assignee: id,
        name,
        rota,
        // The calendars are built once per configuration: this is an interval lookup each.
        onDuty: rota && personCalendar(deps.business, id).isOpen(now),
        ...(phone === undefined ? {} : { phone }),
        ...(email === undefined ? {} : { email }),
      })),
    };
    return c.json(body);
  });
  return routes;
}
