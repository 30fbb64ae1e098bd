/**
 * Limits from Keystone unified limits, resolved as oslo.limit's flat enforcer
 * resolves them (docs/interop.md#unified-limits): project limit, else registered limit, else 0.
 *
 * Differences from oslo.limit, all invisible in the results:
 * - the endpoint (→ service_id, region_id) and the enforcement model are looked
 *   up once per process, not once per check;
 * - one call lists all project limits of the project and one all registered
 *   limits of the service (as newer oslo.limit does), instead of one per resource;
 * - results are cached per project for `cache_time` seconds, misses included
 *   (0 for a resource without any limit is a valid cached value), so a limit
 *   changed in Keystone is seen at most `cache_time` seconds later;
 * - the project itself is checked (`GET /v3/projects/{id}`): Keystone answers
 *   the limit queries with an empty list for an unknown project, where Warre
 *   must answer 400 "Invalid project_id". If the limits user may not read
 *   projects (403) the check is skipped (logged once).
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from '../domain/logger.js';
import { type ProjectLimits, QUOTA_RESOURCES, type QuotaResource } from '../domain/quota.js';
import { type Finding, login } from '../drivers/keystone/checks.js';
import type { OsloLimitOptions } from '../drivers/keystone/options.js';
import { LIMITS_CACHE_TIME_S, opt } from '../drivers/keystone/options.js';
import { errorMessage, KeystoneAuthError, KeystoneSession, KeystoneUnavailableError } from '../drivers/keystone/session.js';
import type { LimitsProvider } from './limits.js';
import { LimitsConfigurationError, LimitsUnavailableError, UnknownProjectError } from './limits.js';

export { formatOverLimit } from './messages.js';

const CACHE_MAX_ENTRIES = 10_000;

/** Where Warre's limits live in Keystone. */
export interface LimitsTarget {
  serviceId: string;
  /** null when the endpoint has no region. */
  regionId: string | null;
}

type CacheValue = { limits: ProjectLimits } | { unknown: true };

const seg = encodeURIComponent;

function query(params: Record<string, string | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null) q.set(k, v);
  return q.toString();
}

export class UnifiedLimitsProvider implements LimitsProvider {
  readonly session: KeystoneSession;
  private readonly cacheTimeMs: number;
  private readonly cache = new LRUCache<string, { value: CacheValue; until: number }>({ max: CACHE_MAX_ENTRIES });
  private readonly inflight = new Map<string, Promise<CacheValue>>();
  private targetPromise: Promise<LimitsTarget> | null = null;
  private projectCheckDenied = false;

  constructor(
    private readonly options: OsloLimitOptions,
    private readonly logger: Logger,
    session?: KeystoneSession,
  ) {
    this.session = session ?? new KeystoneSession(options, { logger, section: 'oslo_limit' });
    this.cacheTimeMs = (options.cache_time ?? LIMITS_CACHE_TIME_S) * 1000;
    if (!opt(options.system_scope) && (opt(options.project_id) || opt(options.project_name))) {
      this.logger.warn(
        { project: opt(options.project_id) ?? opt(options.project_name) },
        "[oslo_limit] authenticates with a project-scoped token: Keystone hides other projects' limits from it, so project overrides will be invisible and registered defaults used. Set system_scope = all.",
      );
    }
  }

  async getLimits(projectId: string): Promise<ProjectLimits> {
    if (!projectId) throw new UnknownProjectError(projectId);
    const value = await this.lookup(projectId);
    if ('unknown' in value) throw new UnknownProjectError(projectId);
    return { ...value.limits };
  }

  /** Forget cached limits (all projects, or one). */
  clearCache(projectId?: string): void {
    if (projectId === undefined) this.cache.clear();
    else this.cache.delete(projectId);
  }

  /**
   * The start-up check (docs/keystone.md#start-up-checks): the user logs in, `endpoint_id`
   * (or the service search) leads to a service and region, and both resources have a
   * registered limit there. Changes nothing in Keystone.
   */
  async check(): Promise<Finding[]> {
    const section = 'oslo_limit';
    const uses = 'Creating and extending reservations, offers and GET /v1/limits answer';
    const { finding } = await login(this.session, section, `${uses} 503`);
    if (finding) return [finding];
    let target: LimitsTarget;
    try {
      target = await this.target();
    } catch (err) {
      if (err instanceof LimitsConfigurationError) {
        return [{ level: 'error', section, recheck: false, message: `${err.message}. ${uses} 500 until it is fixed.` }];
      }
      if (err instanceof KeystoneUnavailableError) {
        return [{ level: 'warn', section, recheck: true, message: `[${section}] cannot be checked yet: ${err.message}` }];
      }
      throw err;
    }
    const reg = await this.session.request(
      'GET',
      `registered_limits?${query({ service_id: target.serviceId, region_id: target.regionId })}`,
    );
    if (reg.status !== 200) throw new Error(`Listing registered limits failed: ${reg.status} ${errorMessage(reg.body)}`);
    const registered = new Set(((reg.body?.registered_limits ?? []) as { resource_name: string }[]).map((l) => l.resource_name));
    return QUOTA_RESOURCES.filter((r) => !registered.has(r)).map((resource) => ({
      level: 'warn' as const,
      section,
      recheck: false,
      message:
        `[${section}] Keystone has no registered limit for resource ${resource} of service ${target.serviceId}` +
        `${target.regionId ? ` in region ${target.regionId}` : ''}: a project without a limit of its own gets 0, ` +
        'and every reservation it asks for is refused (413).',
    }));
  }

  /** The service and region Warre's limits are registered under (resolved once). */
  target(): Promise<LimitsTarget> {
    this.targetPromise ??= this.resolveTarget().catch((err: unknown) => {
      this.targetPromise = null; // retry on the next call
      throw err;
    });
    return this.targetPromise;
  }

  private async lookup(projectId: string): Promise<CacheValue> {
    const cached = this.cache.get(projectId);
    if (cached && Date.now() < cached.until) return cached.value;
    let pending = this.inflight.get(projectId);
    if (!pending) {
      pending = this.load(projectId)
        .then((value) => {
          if (this.cacheTimeMs > 0) this.cache.set(projectId, { value, until: Date.now() + this.cacheTimeMs });
          return value;
        })
        .finally(() => this.inflight.delete(projectId));
      this.inflight.set(projectId, pending);
    }
    return pending;
  }

  private async load(projectId: string): Promise<CacheValue> {
    try {
      const { serviceId, regionId } = await this.target();
      if ((await this.projectExists(projectId)) === false) return { unknown: true };

      const found: Partial<ProjectLimits> = {};
      const res = await this.session.request(
        'GET',
        `limits?${query({ service_id: serviceId, region_id: regionId, project_id: projectId })}`,
      );
      if (res.status === 400) return { unknown: true };
      if (res.status !== 200) throw new Error(`Listing limits of project ${projectId} failed: ${res.status} ${errorMessage(res.body)}`);
      for (const l of (res.body?.limits ?? []) as { resource_name: string; resource_limit: number }[]) {
        if (isQuotaResource(l.resource_name) && found[l.resource_name] === undefined) found[l.resource_name] = l.resource_limit;
      }

      if (QUOTA_RESOURCES.some((r) => found[r] === undefined)) {
        const reg = await this.session.request('GET', `registered_limits?${query({ service_id: serviceId, region_id: regionId })}`);
        if (reg.status !== 200) throw new Error(`Listing registered limits failed: ${reg.status} ${errorMessage(reg.body)}`);
        for (const l of (reg.body?.registered_limits ?? []) as { resource_name: string; default_limit: number }[]) {
          if (isQuotaResource(l.resource_name) && found[l.resource_name] === undefined) found[l.resource_name] = l.default_limit;
        }
      }

      const limits = {} as ProjectLimits;
      for (const resource of QUOTA_RESOURCES) {
        const value = found[resource];
        if (value === undefined) {
          this.logger.error(
            { resource, service: serviceId, region: regionId },
            `Unable to find registered limit for resource ${resource} for ${serviceId} in region ${regionId}.`,
          );
        }
        limits[resource] = value ?? 0;
      }
      return { limits };
    } catch (err) {
      if (err instanceof KeystoneAuthError && err.status === 403) {
        throw new LimitsConfigurationError(`Keystone does not let the [oslo_limit] user read limits (${err.message})`);
      }
      if (err instanceof KeystoneUnavailableError || err instanceof KeystoneAuthError) {
        throw new LimitsUnavailableError(`Unable to read limits from Keystone: ${err.message}`);
      }
      throw err;
    }
  }

  /** true/false, or null when the limits user may not read projects. */
  private async projectExists(projectId: string): Promise<boolean | null> {
    if (this.projectCheckDenied) return null;
    try {
      const res = await this.session.request('GET', `projects/${seg(projectId)}`);
      if (res.status === 404) return false;
      if (res.status === 200) return true;
      throw new Error(`Looking up project ${projectId} failed: ${res.status} ${errorMessage(res.body)}`);
    } catch (err) {
      if (err instanceof KeystoneAuthError && err.status === 403) {
        this.projectCheckDenied = true;
        this.logger.warn(
          { error: err.message },
          '[oslo_limit] user may not read projects: unknown project ids will get the default limits',
        );
        return null;
      }
      throw err;
    }
  }

  /**
   * The service and region of `endpoint_id` (or of the endpoint the service search finds).
   * What can only be fixed by the operator is a {@link LimitsConfigurationError} naming it.
   */
  private async resolveTarget(): Promise<LimitsTarget> {
    const read = async (path: string, what: string) => {
      try {
        return await this.session.request('GET', path);
      } catch (err) {
        if (err instanceof KeystoneAuthError && err.status === 403) {
          throw new LimitsConfigurationError(
            `Keystone does not let the [oslo_limit] user read ${what} (it needs the reader role on the system: system_scope = all)`,
          );
        }
        throw err;
      }
    };
    const model = await read('limits/model', 'the limit enforcement model');
    const name = model.body?.model?.name;
    if (model.status !== 200) throw new Error(`Reading the limit enforcement model failed: ${model.status} ${errorMessage(model.body)}`);
    if (name !== 'flat') throw new LimitsConfigurationError(`Keystone's limit enforcement model is ${name}; Warre supports only flat`);

    const endpointId = opt(this.options.endpoint_id);
    if (endpointId) {
      const res = await read(`endpoints/${seg(endpointId)}`, 'endpoints');
      if (res.status === 404) throw new LimitsConfigurationError(`[oslo_limit] endpoint_id ${endpointId} was not found in Keystone`);
      if (res.status !== 200) throw new Error(`Reading endpoint ${endpointId} failed: ${res.status} ${errorMessage(res.body)}`);
      return { serviceId: res.body.endpoint.service_id, regionId: res.body.endpoint.region_id ?? null };
    }

    const type = opt(this.options.endpoint_service_type);
    const name2 = opt(this.options.endpoint_service_name);
    if (!type && !name2) {
      throw new LimitsConfigurationError('[oslo_limit] needs endpoint_id, or endpoint_service_type and/or endpoint_service_name');
    }
    const services = await read(`services?${query({ type, name: name2 })}`, 'services');
    if (services.status !== 200) throw new Error(`Listing services failed: ${services.status} ${errorMessage(services.body)}`);
    // Filter here too, in case a Keystone ignores a filter.
    const matching = ((services.body?.services ?? []) as { id: string; type: string; name?: string }[]).filter(
      (s) => (!type || s.type === type) && (!name2 || s.name === name2),
    );
    const searched = `[oslo_limit] endpoint_service_type ${type ?? '(any)'}, endpoint_service_name ${name2 ?? '(any)'}`;
    if (matching.length > 1) throw new LimitsConfigurationError(`Keystone has several services matching ${searched}`);
    const service = matching[0];
    if (!service) throw new LimitsConfigurationError(`Keystone has no service matching ${searched}`);

    let regionId: string | null = null;
    const regionName = opt(this.options.endpoint_region_name);
    if (regionName) {
      const region = await read(`regions/${seg(regionName)}`, 'regions');
      if (region.status === 404)
        throw new LimitsConfigurationError(`[oslo_limit] endpoint_region_name ${regionName} was not found in Keystone`);
      if (region.status !== 200) throw new Error(`Reading region ${regionName} failed: ${region.status} ${errorMessage(region.body)}`);
      regionId = region.body.region.id;
    }

    const iface = (opt(this.options.endpoint_interface) ?? 'public').replace(/URL$/, '');
    const endpoints = await read(`endpoints?${query({ service_id: service.id, region_id: regionId, interface: iface })}`, 'endpoints');
    if (endpoints.status !== 200) throw new Error(`Listing endpoints failed: ${endpoints.status} ${errorMessage(endpoints.body)}`);
    const list = ((endpoints.body?.endpoints ?? []) as { service_id: string; region_id: string | null; interface: string }[]).filter(
      (e) => e.service_id === service.id && e.interface === iface && (!regionId || e.region_id === regionId),
    );
    const where = `${iface} endpoint of service ${service.id}${regionId ? ` in region ${regionId}` : ''}`;
    if (list.length > 1) throw new LimitsConfigurationError(`Keystone has several matching endpoints (${where})`);
    const endpoint = list[0];
    if (!endpoint) throw new LimitsConfigurationError(`Keystone has no ${where}`);
    return { serviceId: endpoint.service_id, regionId: endpoint.region_id ?? null };
  }
}

function isQuotaResource(name: string): name is QuotaResource {
  return (QUOTA_RESOURCES as readonly string[]).includes(name);
}
