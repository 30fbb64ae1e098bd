/**
 * /v1/availability/ and /v1/offers/ (docs/availability.md): when capacity is free, across
 * every flavor the caller may book, and the earliest bookings that fit.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequest } from '../../../domain/errors.js';
import { DAY, formatApi, truncateToMinute } from '../../../domain/time.js';
import { availability, type FlavorFilter, offers } from '../../../services/availability.js';
import { availabilityJson } from '../../availability-json.js';
import { sendJsonBytes } from '../../json-bytes.js';
import { projectOf, type Query, query, queryBool, queryDate, queryIds, queryInt, queryString } from '../../request.js';
import { bookableFlavorView } from '../../views.js';
import type { RouteDeps } from '../index.js';

/** Default length of an availability window and of an offer's start range. */
const DEFAULT_SPAN = 90 * DAY;
/** Longest availability window and offer start range. */
const MAX_SPAN = 366 * DAY;
/** Longest booking an offer may be asked for: a year in hours (flavors allow far less). */
const MAX_HOURS = 366 * 24;
const MAX_INSTANCES = 10_000;

function flavorFilter(req: FastifyRequest, q: Query): FlavorFilter {
  return {
    category: queryString(q, 'category'),
    availabilityZone: queryString(q, 'availability_zone'),
    flavorIds: queryIds(req, 'flavor_id'),
  };
}

function requiredInt(q: Query, name: string, max: number): number {
  const n = queryInt(q, name, 1, max);
  if (n === null) throw new BadRequest(`Missing query parameter ${name} (an integer from 1 to ${max})`);
  return n;
}

export default async function availabilityRoutes(app: FastifyInstance, { svc, authz }: RouteDeps): Promise<void> {
  app.get('/v1/availability', async (req, reply) => {
    authz.collection(req, 'warre:availability:get');
    const q = query(req);
    const start = truncateToMinute(queryDate(q, 'start') ?? svc.now());
    const endGiven = queryDate(q, 'end');
    const end = endGiven === null ? start + DEFAULT_SPAN : truncateToMinute(endGiven);
    if (end <= start) throw new BadRequest('Availability end must be after start');
    if (end - start > MAX_SPAN) throw new BadRequest('Availability window is too long: 366 days at most from start to end');
    const filter = flavorFilter(req, q);
    const all = queryBool(q, 'all_projects') === true && authz.allowed(req, 'warre:flavor:list:all');
    const results = await availability(svc, all ? null : projectOf(req), filter, start, end);
    return sendJsonBytes(reply, availabilityJson(start, end, results));
  });

  app.get('/v1/offers', async (req) => {
    authz.collection(req, 'warre:offer:list');
    const projectId = projectOf(req);
    const q = query(req);
    const instanceCount = requiredInt(q, 'instance_count', MAX_INSTANCES);
    const hours = requiredInt(q, 'hours', MAX_HOURS);
    const now = svc.now();
    const earliestStart = queryDate(q, 'earliest_start') ?? now;
    const latestStart = queryDate(q, 'latest_start') ?? Math.max(earliestStart, now) + DEFAULT_SPAN;
    if (latestStart < earliestStart) throw new BadRequest('Invalid value for query parameter latest_start: it is before earliest_start');
    if (latestStart - earliestStart > MAX_SPAN) {
      throw new BadRequest('Invalid value for query parameter latest_start: 366 days at most after earliest_start');
    }
    const limit = Math.min(queryInt(q, 'limit', 1, 1_000_000) ?? 20, 100);
    const found = await offers(svc, projectId, {
      ...flavorFilter(req, q),
      instanceCount,
      hours,
      earliestStart,
      latestStart,
      minVcpu: queryInt(q, 'min_vcpu', 0, 1_000_000) ?? 0,
      minMemoryMb: queryInt(q, 'min_memory_mb', 0, 1_000_000_000) ?? 0,
      limit,
    });
    return {
      results: found.map((o) => ({
        flavor: bookableFlavorView(o.flavor),
        start: formatApi(o.start),
        end: formatApi(o.end),
        instance_count: o.instanceCount,
        hours: o.hours,
        cost: o.cost,
        within_quota: o.quotaReason === null,
        quota_reason: o.quotaReason,
      })),
    };
  });
}
