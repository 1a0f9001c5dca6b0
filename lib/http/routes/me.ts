import { Hono } from 'hono';
import { z } from 'zod';
import { ScopeSchema } from '#lib/domain/api-key.ts';
import type { BusinessConfig } from '#lib/domain/business-config.ts';
import { actingName } from '#lib/domain/signer.ts';
import type { AuthEnv } from '../auth.ts';

/** Who the calling key is: the answer of GET /api/me. */
export const WhoAmISchema = z
  .object({
    keyId: z.string().meta({ description: "The key's id (`key_…`), or `bootstrap` for AGENT_API_TOKEN" }),
    scopes: z.array(ScopeSchema),
    agent: z
      .object({
        id: z
          .string()
          .nullable()
          .meta({ description: 'Their id in the business configuration, when the key keeps it' }),
        name: z.string().meta({ description: 'Their name, as the business configuration lists it now' }),
      })
      .nullable()
      .meta({
        description:
          "The person the key's replies are signed by; null for a key without one (AGENT_API_TOKEN, a tool's key)",
      }),
    assignee: z.string().nullable().meta({
      description:
        'What assigns a conversation to that person (`POST …/assign {assignee}`, `GET /api/conversations?assignee=`): their id, else their name; null without a person',
    }),
  })
  .meta({ description: 'The calling API key and its person' });
export type WhoAmI = z.infer<typeof WhoAmISchema>;

/**
 * GET /api/me: who the key is, so that a tool can offer "Assign to me" and tell the agent's own
 * conversations from the others'. Read from the principal authentication resolved: no store read.
 */
export function meRoutes(deps: { business: BusinessConfig }): Hono<AuthEnv> {
  const routes = new Hono<AuthEnv>();
  routes.get('/', (c) => {
    const { keyId, scopes, agentName, agentId } = c.get('principal');
    const name = actingName(deps.business, { name: agentName, id: agentId });
    const body: WhoAmI = {
      keyId,
      scopes: [...scopes],
      agent: name ? { id: agentId, name } : null,
      assignee: name ? (agentId ?? name) : null,
    };
    return c.json(body);
  });
  return routes;
}
