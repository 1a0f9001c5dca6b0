import { Hono } from 'hono';
import { z } from 'zod';
import type { BusinessConfig } from '#lib/domain/business-config.ts';
import { ChannelSchema } from '#lib/domain/channel.ts';
import { datesBetween, MAX_RANGE_DAYS } from '#lib/domain/service-level.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { StatsStore } from '#lib/ports/stats-store.ts';
import { readServiceLevel } from '#lib/use-cases/service-level.ts';
import { parseRequest } from '../errors.ts';

const IsoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
  .refine((date) => {
    // Date rolls 2026-02-30 over to March: a real date reads back the same.
    const parsed = new Date(`${date}T00:00:00Z`);
    return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(date);
  }, 'not a calendar date');

export const ServiceLevelQuerySchema = z
  .strictObject({ from: IsoDate, to: IsoDate, channel: ChannelSchema.optional() })
  .superRefine((query, ctx) => {
    if (query.from > query.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to is before from' });
    else if (datesBetween(query.from, query.to).length > MAX_RANGE_DAYS)
      ctx.addIssue({ code: 'custom', path: ['to'], message: `at most ${MAX_RANGE_DAYS} days at a time` });
  });

/**
 * GET /api/service-level?from=YYYY-MM-DD&to=YYYY-MM-DD[&channel=sms]: the agents' service level
 * per business day (the business time zone), per channel and in total. Mounted at
 * /api/service-level behind bearer auth with the "read" scope.
 */
export function serviceLevelRoutes(deps: {
  stats: StatsStore;
  business: BusinessConfig;
  clock: Clock;
}): Hono {
  const routes = new Hono();
  routes.get('/', async (c) => {
    const query = parseRequest(ServiceLevelQuerySchema, c.req.query());
    return c.json(await readServiceLevel(deps, query));
  });
  return routes;
}
