/**
 * The flavor catalog as this process last read it: every flavor (in the list's order) and every
 * grant, so that listing flavors, reading one, and naming the flavors of a page of reservations
 * need no database round trip (docs/operations.md#flavor-cache).
 *
 * How fresh it is:
 * - a change made through this process (flavor create / update / delete, grant create / delete)
 *   is seen by its next request: the write drops the snapshot once it has committed;
 * - a change made anywhere else (another API process on this host or another, warre-manage, an
 *   operator's SQL) is seen within `[api] flavor_cache_seconds` (default 1 s): a request that
 *   finds the snapshot older than that waits for a fresh one (one read for all the requests
 *   waiting at that moment), never serves the old one.
 * `flavor_cache_seconds = 0` reads the database on every request, as without a cache.
 *
 * What is never served from here: anything a write decides on. Creating a reservation reads
 * and locks the flavor row and its grant inside its own transaction (src/services/reservations.ts).
 */

import type { Queryable } from '../db/connect.js';
import * as flavors from '../db/repositories/flavors.js';
import type { Flavor } from '../domain/types.js';

export interface CatalogSnapshot {
  /** Every flavor, in the order of the flavor list (name, memory_mb, id, as the database sorts). */
  readonly flavors: readonly Flavor[];
  readonly byId: ReadonlyMap<string, Flavor>;
  /** project id → the ids of the flavors granted to it. */
  readonly grants: ReadonlyMap<string, ReadonlySet<string>>;
}

export class FlavorCatalog {
  readonly #db: Queryable;
  readonly #maxAgeMs: number;
  #snapshot: CatalogSnapshot | null = null;
  /** performance.now() when the read behind #snapshot started. */
  #readAt = 0;
  #reading: Promise<CatalogSnapshot> | null = null;
  /** Bumped by every local write: a read that started before one is not kept. */
  #generation = 0;

  constructor(db: Queryable, maxAgeSeconds: number) {
    this.#db = db;
    this.#maxAgeMs = Math.max(0, maxAgeSeconds) * 1000;
  }

  /** False with `flavor_cache_seconds = 0`: callers read the database themselves. */
  get enabled(): boolean {
    return this.#maxAgeMs > 0;
  }

  /** A snapshot no older than the maximum age, and newer than this process's last write. */
  async snapshot(): Promise<CatalogSnapshot> {
    const now = performance.now();
    if (this.#snapshot !== null && now - this.#readAt < this.#maxAgeMs) return this.#snapshot;
    // A read already under way started no earlier than the snapshot went stale: share it.
    return (this.#reading ??= this.#read());
  }

  /** This process changed flavors or grants (called after the commit). */
  changed(): void {
    this.#generation++;
    this.#snapshot = null;
    this.#reading = null;
  }

  async #read(): Promise<CatalogSnapshot> {
    const generation = this.#generation;
    const startedAt = performance.now();
    try {
      const [all, grantRows] = await Promise.all([flavors.allFlavors(this.#db), flavors.allGrants(this.#db)]);
      const grants = new Map<string, Set<string>>();
      for (const g of grantRows) {
        let set = grants.get(g.project_id);
        if (!set) grants.set(g.project_id, (set = new Set()));
        set.add(g.flavor_id);
      }
      const snapshot: CatalogSnapshot = { flavors: all, byId: new Map(all.map((f) => [f.id, f])), grants };
      if (generation === this.#generation) {
        this.#snapshot = snapshot;
        this.#readAt = startedAt;
      }
      return snapshot;
    } finally {
      if (generation === this.#generation) this.#reading = null;
    }
  }
}

/** Whether the snapshot holds a grant of the flavor to the project. */
export function grantedTo(s: CatalogSnapshot, projectId: string, flavorId: string): boolean {
  return s.grants.get(projectId)?.has(flavorId) ?? false;
}

/** May a member of `projectId` see (and book) this flavor: active, and public or granted. */
export function visibleTo(s: CatalogSnapshot, projectId: string, f: Flavor): boolean {
  return f.active && (f.is_public || grantedTo(s, projectId, f.id));
}
