/**
 * src/api/reservation-json.ts writes the reservation list's JSON straight from the stored rows.
 * Its bytes must be those of the path it replaced — each row made a domain record
 * (rowToReservation), then a view (reservationView), the page (pageResponse), JSON.stringify —
 * on generated rows (any string, any datetime text, nulls) and on every dialect with odd
 * stored values (SQLAlchemy's microsecond text on SQLite, PostgreSQL microseconds, MariaDB's
 * zero date, unicode, control characters, quotes), directly and through the route.
 */

import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJsonBytes } from '../../src/api/json-bytes.js';
import { pageRequest, pageResponse } from '../../src/api/request.js';
import { reservationListJson } from '../../src/api/reservation-json.js';
import { reservationView } from '../../src/api/views.js';
import type { Db } from '../../src/db/connect.js';
import { insertFlavor } from '../../src/db/repositories/flavors.js';
import { listReservationRows, listReservations, rowToReservation } from '../../src/db/repositories/reservations.js';
import type { Flavor, StoredReservation, StoredReservationPage } from '../../src/domain/types.js';
import { ADMIN, buildTestApp, type TestApp } from '../support/app.js';
import { DIALECTS, type Dialect, migratedDatabase } from '../support/db.js';
import { anyString, flavorArb } from '../support/json-arbitraries.js';

/** The list's JSON as the view path writes it. */
function viewJson(page: StoredReservationPage, next?: string): string {
  const results = page.rows.map((r) => reservationView({ ...rowToReservation(r), flavor: page.flavors.get(r.flavor_id)! }));
  return JSON.stringify({ results, total: page.total, next });
}

const storedTime = fc.oneof(
  fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59) }).chain((ms) => {
    const base = new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
    return fc.constantFrom(base, `${base}.123456`, `${base}.5`, base.replace(' ', 'T'));
  }),
  fc.constantFrom('2030-04-31 10:00:00', '2031-02-29 00:00:00', '0000-00-00 00:00:00', '2030-01-01 10:00', '2030-01-01 24:00:00'),
);
const pageArb: fc.Arbitrary<{ page: StoredReservationPage; next: string | undefined }> = fc
  .uniqueArray(anyString, { minLength: 1, maxLength: 4 })
  .chain((flavorIds) =>
    fc.record({
      flavors: fc.tuple(...flavorIds.map((id) => flavorArb(fc.constant(id)))),
      rows: fc.array(
        fc.record<StoredReservation>({
          id: anyString,
          created_at: storedTime,
          user_id: anyString,
          project_id: anyString,
          flavor_id: fc.constantFrom(...flavorIds),
          lease_id: fc.option(anyString, { nil: null }),
          compute_flavor: fc.option(anyString, { nil: null }),
          status: fc.oneof(fc.constantFrom('PENDING_CREATE', 'ALLOCATED', 'ACTIVE', 'COMPLETE', 'ERROR'), anyString),
          status_reason: fc.option(anyString, { nil: null }),
          start: storedTime,
          end: storedTime,
          instance_count: fc.integer(),
        }),
        { maxLength: 8 },
      ),
      total: fc.nat(),
      next: fc.option(anyString, { nil: undefined }),
    }),
  )
  .map(({ flavors, rows, total, next }) => ({ page: { rows, flavors: new Map(flavors.map((f) => [f.id, f])), total }, next }));

/** A page of one small row. */
function onePage(): StoredReservationPage {
  return {
    rows: [
      {
        id: 'r',
        created_at: '2030-01-01 00:00:00',
        user_id: 'u',
        project_id: 'p',
        flavor_id: 'f',
        lease_id: null,
        compute_flavor: null,
        status: 'ACTIVE',
        status_reason: null,
        start: '2030-01-01 00:00:00',
        end: '2030-01-01 01:00:00',
        instance_count: 1,
      },
    ],
    flavors: new Map([['f', flavor('f', 'small')]]),
    total: 1,
  };
}

describe('reservationListJson', () => {
  it('writes the bytes of the view path for any rows, flavors, total and next link', () => {
    fc.assert(
      fc.property(pageArb, ({ page, next }) => {
        expect(reservationListJson(page, next).bytes.equals(Buffer.from(viewJson(page, next)))).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('grows its buffer past the first guess (long multi-byte values)', () => {
    const flavor: Flavor = {
      id: 'f',
      name: '中'.repeat(3000),
      description: null,
      vcpu: 1,
      memory_mb: 1,
      disk_gb: 1,
      ephemeral_gb: 0,
      active: true,
      properties: null,
      max_length_hours: 1,
      slots: 1,
      is_public: true,
      extra_specs: null,
      start: null,
      end: null,
      category: null,
      availability_zone: null,
    };
    const row: StoredReservation = {
      id: 'r',
      created_at: '2030-01-01 00:00:00',
      user_id: '😀'.repeat(2000),
      project_id: 'p',
      flavor_id: 'f',
      lease_id: null,
      compute_flavor: null,
      status: 'ACTIVE',
      status_reason: 'é'.repeat(5000),
      start: '2030-01-01 00:00:00',
      end: '2030-01-01 01:00:00',
      instance_count: 1,
    };
    const page = { rows: [row, row, row], flavors: new Map([['f', flavor]]), total: 3 };
    expect(reservationListJson(page, undefined).bytes.toString('utf8')).toBe(viewJson(page));
  });

  it("reuses a page's buffer for a later page only once it was released, and only once", () => {
    const page = onePage();
    const a = reservationListJson(page, undefined);
    const b = reservationListJson(page, undefined);
    expect(b.bytes.buffer).not.toBe(a.bytes.buffer);
    a.release();
    a.release();
    const c = reservationListJson(page, undefined);
    expect(c.bytes.buffer).toBe(a.bytes.buffer);
    const d = reservationListJson(page, undefined);
    expect(d.bytes.buffer).not.toBe(a.bytes.buffer);
    for (const x of [b, c, d]) expect(x.bytes.toString('utf8')).toBe(viewJson(page));
  });

  it("sends a page as JSON and lets its buffer serve again only once the answer was handed to the kernel ('finish')", () => {
    const page = onePage();
    const raw = new EventEmitter();
    const sent: { type?: string; bytes?: Buffer } = {};
    const reply = {
      raw,
      type(t: string) {
        sent.type = t;
        return this;
      },
      send(b: Buffer) {
        sent.bytes = b;
        return this;
      },
    } as unknown as FastifyReply;
    const a = reservationListJson(page, undefined);
    sendJsonBytes(reply, a);
    expect(sent).toEqual({ type: 'application/json; charset=utf-8', bytes: a.bytes });
    expect(reservationListJson(page, undefined).bytes.buffer).not.toBe(a.bytes.buffer);
    raw.emit('finish');
    expect(reservationListJson(page, undefined).bytes.buffer).toBe(a.bytes.buffer);
  });

  it("writes a flavor record's JSON once for many pages, and a changed flavor (a new record) anew", () => {
    const page = onePage();
    expect(reservationListJson(page, undefined).bytes.toString('utf8')).toBe(viewJson(page));
    expect(reservationListJson(page, undefined).bytes.toString('utf8')).toBe(viewJson(page));
    const renamed = { ...page, flavors: new Map([['f', { ...page.flavors.get('f')!, name: 'renamed', slots: 9 }]]) };
    const text = reservationListJson(renamed, undefined).bytes.toString('utf8');
    expect(text).toBe(viewJson(renamed));
    expect(text).toContain('"name":"renamed"');
  });

  it('fails as the view did when a row names a flavor that was not read', () => {
    const page = { rows: [{ flavor_id: 'gone' } as StoredReservation], flavors: new Map(), total: 1 };
    expect(() => viewJson(page)).toThrow(TypeError);
    expect(() => reservationListJson(page, undefined)).toThrow(TypeError);
  });
});

const FLAVOR_A = '2f7d3c2e-0000-4000-8000-00000000000a';
const FLAVOR_B = '2f7d3c2e-0000-4000-8000-00000000000b';

function flavor(id: string, name: string, extra: Partial<Flavor> = {}): Flavor {
  return {
    id,
    name,
    description: null,
    vcpu: 2,
    memory_mb: 4096,
    disk_gb: 20,
    ephemeral_gb: 0,
    active: true,
    properties: null,
    max_length_hours: 24,
    slots: 3,
    is_public: true,
    extra_specs: null,
    start: null,
    end: null,
    category: null,
    availability_zone: null,
    ...extra,
  };
}

/**
 * Two flavors and reservations with the odd values each dialect can hold, stored as the
 * Python service (SQLAlchemy) or a hand edit may have left them; returns the member project.
 */
async function seedOddRows(db: Db, dialect: Dialect, opts: { zeroDate: boolean }): Promise<string> {
  await insertFlavor(
    db,
    flavor(FLAVOR_A, 'gpu "α" \\ 😀', {
      description: 'line\nbreak',
      extra_specs: { 'resources:VGPU': '1', ü: [1, null] },
      category: 'gpu',
    }),
  );
  await insertFlavor(db, flavor(FLAVOR_B, 'plain', { start: Date.UTC(2030, 0, 1), end: Date.UTC(2031, 0, 1, 12, 30) }));
  const times: string[] = ['2030-01-01 10:00:00', '2030-01-02 00:00:00', '1000-01-01 00:00:00', '9999-12-31 23:59:59'];
  if (dialect === 'sqlite')
    times.push('2030-01-03 10:00:00.123456', '2030-01-03 10:00:01.999999', '2030-01-04T08:15:00', '2030-04-31 10:00:00');
  if (dialect === 'postgres') times.push('2030-01-03 10:00:00.123456', '2030-01-03 10:00:01.999999');
  // MariaDB keeps a zero date (sql_mode without NO_ZERO_DATE); its answer is outside the documented form.
  if (dialect === 'mysql' && opts.zeroDate) times.push('0000-00-00 00:00:00');
  const reasons = [
    null,
    '',
    'Not enough hosts available: "x" \\ y',
    'tab\there\u0001\u001f',
    '中文 é 😀',
    '\u2028\u2029',
    'lone \ud800 surrogate',
  ];
  if (dialect !== 'postgres') reasons.push('nul\u0000char');
  let n = 0;
  const project = 'odd-project';
  for (const t of times) {
    for (const reason of reasons) {
      n++;
      await db.kysely
        .insertInto('reservation')
        .values({
          id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
          created_at: times[n % times.length]!,
          user_id: n % 3 === 0 ? 'usér "ü"' : `user-${n}`,
          project_id: n % 2 === 0 ? project : `other-${n % 5}`,
          flavor_id: n % 2 === 0 ? FLAVOR_A : FLAVOR_B,
          lease_id: n % 4 === 0 ? null : `lease-${n}`,
          compute_flavor: n % 5 === 0 ? null : `cf-${n}`,
          status: ['PENDING_CREATE', 'ALLOCATED', 'ACTIVE', 'COMPLETE', 'ERROR'][n % 5]!,
          status_reason: reason,
          start: t,
          end: times[(n + 1) % times.length]!,
          instance_count: n % 7,
        })
        .execute();
    }
  }
  return project;
}

describe.each(DIALECTS)('the reservation list on %s', (dialect) => {
  let db: Db;
  let close: () => Promise<void>;
  let project: string;

  beforeAll(async () => {
    ({ db, close } = await migratedDatabase(dialect));
    project = await seedOddRows(db, dialect, { zeroDate: true });
  });
  afterAll(async () => close?.());

  it('writes the bytes of the view path for every page and filter', async () => {
    const cases = [
      { filter: { projectId: null }, page: { limit: 1000, offset: 0 } },
      { filter: { projectId: null }, page: { limit: 7, offset: 14 } },
      { filter: { projectId: project }, page: { limit: 1000, offset: 0 } },
      { filter: { projectId: null, flavorId: FLAVOR_B }, page: { limit: 5, offset: 0 } },
      { filter: { projectId: 'nobody' }, page: { limit: 1000, offset: 0 } },
      { filter: { projectId: null }, page: { limit: 7, offset: 10_000 } },
    ];
    const everything = await db.kysely.selectFrom('reservation').select(['project_id', 'flavor_id']).execute();
    for (const { filter, page } of cases) {
      const stored = await listReservationRows(db, filter, page);
      const matching = everything.filter(
        (r) =>
          (filter.projectId === null || r.project_id === filter.projectId) && (!('flavorId' in filter) || r.flavor_id === filter.flavorId),
      );
      expect(stored.total).toBe(matching.length);
      expect(stored.rows.length).toBe(Math.max(0, Math.min(page.limit, matching.length - page.offset)));
      for (const next of [undefined, 'https://warre.example/v1/reservations/?q="é"&page=2']) {
        expect(reservationListJson(stored, next).bytes.equals(Buffer.from(viewJson(stored, next)))).toBe(true);
      }
    }
    const all = await listReservationRows(db, { projectId: null }, { limit: 1000, offset: 0 });
    expect(all.rows.length).toBeGreaterThan(20);
    // The domain records (other callers) come from the same rows.
    const records = await listReservations(db, { projectId: null }, { limit: 1000, offset: 0 });
    expect(records.rows.map((r) => r.id)).toEqual(all.rows.map((r) => r.id));
    expect(records.total).toBe(all.total);
  });
});

describe.each(DIALECTS)('GET /v1/reservations/ on %s', (dialect) => {
  let t: TestApp;
  let project: string;

  beforeAll(async () => {
    t = await buildTestApp(dialect);
    project = await seedOddRows(t.db, dialect, { zeroDate: false });
  });
  afterAll(async () => t?.close());

  /** What the route answered before: listReservations → reservationView → pageResponse → JSON.stringify. */
  async function viewPathAnswer(url: string, projectId: string | null): Promise<string> {
    const [path, search = ''] = url.split('?') as [string, string?];
    const query: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(search)) if (!(k in query)) query[k] = v;
    const p = pageRequest(query);
    const { rows, total } = await listReservations(t.db, { projectId, flavorId: query.flavor_id ?? null }, p);
    const req = { url, protocol: 'http', headers: { host: 'warre.example' }, query } as unknown as FastifyRequest;
    expect(path).toMatch(/^\/v1\/reservations\/?$/);
    return JSON.stringify(
      pageResponse(
        req,
        null,
        p,
        total,
        rows.map((r) => reservationView(r, new Map())),
      ),
    );
  }

  it('answers the bytes and headers of the view path (admin and member, with and without next)', async () => {
    const member = { 'x-user-id': 'odd-user', 'x-project-id': project, 'x-roles': 'member' };
    const cases: [string, Record<string, string>, string | null][] = [
      ['/v1/reservations/?all_projects=true&limit=1000', ADMIN, null],
      ['/v1/reservations/?all_projects=true&limit=4&page=3', ADMIN, null],
      ['/v1/reservations/?all_projects=1&flavor_id=' + FLAVOR_A + '&limit=3', ADMIN, null],
      ['/v1/reservations/', member, project],
      ['/v1/reservations?limit=2', member, project],
    ];
    const flavors = await t.app.inject({ method: 'GET', url: '/v1/flavors/', headers: { ...ADMIN, host: 'warre.example' } });
    for (const [url, who, projectId] of cases) {
      const res = await t.app.inject({ method: 'GET', url, headers: { ...who, host: 'warre.example' } });
      expect(res.statusCode, url).toBe(200);
      const expected = await viewPathAnswer(url, projectId);
      expect(res.body, url).toBe(expected);
      expect(res.rawPayload.equals(Buffer.from(expected)), url).toBe(true);
      // The headers of every other JSON answer.
      expect(res.headers['content-type'], url).toBe(flavors.headers['content-type']);
      expect(res.headers['content-length'], url).toBe(String(Buffer.byteLength(expected)));
    }
    expect(flavors.headers['content-type']).toBe('application/json; charset=utf-8');
  });
});
