/**
 * docs/calendar.md: `GET /v1/reservations/calendar.ics` and `GET /v1/reservations/{id}/calendar.ics`
 * on every database. The answers are read back with ical.js (a real iCalendar parser), and
 * the raw text is checked for RFC 5545 framing: CRLF line ends, lines of at most 75 octets.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import ICAL from 'ical.js';
import ical from 'ical-generator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALENDAR_PROD_ID, calendarEvent, reservationsCalendar } from '../../src/api/calendar.js';
import { CALENDAR_MAX_EVENTS } from '../../src/api/routes/v1/calendar.js';
import type { ReservationWithFlavor } from '../../src/domain/types.js';
import { as, at, Clock, call, createFlavor, expectError, type Headers, seedReservation, uniq } from '../support/api-helpers.js';
import { ADMIN, buildTestApp, MEMBER, OTHER, READER, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

const clock = new Clock(Date.parse('2030-01-01T00:00:30.750Z'));

/** A flavor name with every TEXT character that must be escaped, and non-ASCII text. */
const ODD_NAME = 'gpu; "ä,ö" \\ 東京 ✓';
/** 64 characters (the longest name), 3 octets each in UTF-8 and with escapes: the SUMMARY must fold. */
const LONG_NAME = '長い名前;ä,東京✓'.repeat(8).slice(0, 64);
const ODD_ZONE = 'zone; ä,ö\\東';

interface ParsedEvent {
  uid: string;
  summary: string;
  description: string;
  start: string;
  end: string;
  startUtc: boolean;
  endUtc: boolean;
  stamp: string;
  location: string | null;
  status: string | null;
}

interface ParsedCalendar {
  prodId: string;
  events: ParsedEvent[];
}

/** RFC 5545 framing of the raw text: every line ends in CRLF and has at most 75 octets. */
function checkFraming(text: string): void {
  expect(text.endsWith('\r\n')).toBe(true);
  const lines = text.slice(0, -2).split('\r\n');
  // One assertion for all lines: a large calendar has 100,000 of them.
  expect(lines.filter((line) => /[\r\n]/.test(line) || Buffer.byteLength(line, 'utf8') > 75)).toEqual([]);
  expect(lines[0]).toBe('BEGIN:VCALENDAR');
  expect(lines.at(-1)).toBe('END:VCALENDAR');
}

function parse(text: string): ParsedCalendar {
  const cal = new ICAL.Component(ICAL.parse(text));
  expect(cal.name).toBe('vcalendar');
  return {
    prodId: String(cal.getFirstPropertyValue('prodid')),
    events: cal.getAllSubcomponents('vevent').map((v) => {
      const e = new ICAL.Event(v);
      return {
        uid: e.uid,
        summary: e.summary,
        description: e.description,
        start: e.startDate.toString(),
        end: e.endDate.toString(),
        startUtc: e.startDate.zone?.tzid === 'UTC',
        endUtc: e.endDate.zone?.tzid === 'UTC',
        stamp: String(v.getFirstPropertyValue('dtstamp')),
        location: (v.getFirstPropertyValue('location') as string | null) ?? null,
        status: (v.getFirstPropertyValue('status') as string | null) ?? null,
      };
    }),
  };
}

/** A 200 calendar answer: headers, framing; then the parsed calendar. */
function expectCalendar(res: LightMyRequestResponse, filename: RegExp = /^[\w.-]+\.ics$/): ParsedCalendar {
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toBe('text/calendar; charset=utf-8');
  const disposition = String(res.headers['content-disposition']);
  const m = /^attachment; filename="([^"]+)"$/.exec(disposition);
  expect(m, disposition).not.toBeNull();
  expect(m![1]).toMatch(filename);
  checkFraming(res.body);
  const cal = parse(res.body);
  expect(cal.prodId).toMatch(/Warre/);
  return cal;
}

const uids = (cal: ParsedCalendar) => cal.events.map((e) => e.uid);
const rawLines = (text: string, name: string) => text.split('\r\n').filter((l) => l.startsWith(`${name}:`) || l.startsWith(`${name};`));

describe.each(DIALECTS)('calendar export on %s', (dialect) => {
  let t: TestApp;
  let odd: any;
  let long: any;
  let plain: any;
  /** project-a's reservations by name. */
  const mine: Record<string, string> = {};
  let theirs: string;
  let theirsDone: string;

  beforeAll(async () => {
    t = await buildTestApp(dialect, { now: clock.now });
    odd = await createFlavor(t, { name: ODD_NAME, slots: 10, availability_zone: ODD_ZONE });
    long = await createFlavor(t, { name: LONG_NAME, slots: 10 });
    plain = await createFlavor(t, { name: 'gpu.large', slots: 10 });
    const p = MEMBER['x-project-id'];
    mine.pending = await seedReservation(t, {
      flavor_id: odd.id,
      project_id: p,
      start: '2030-02-03T10:00',
      end: '2030-02-04T12:30',
      instance_count: 4,
    });
    mine.allocated = await seedReservation(t, {
      flavor_id: long.id,
      project_id: p,
      start: '2030-02-01T00:00',
      end: '2030-02-01T06:00',
      status: 'ALLOCATED',
      lease_id: randomUUID(),
      instance_count: 2,
    });
    mine.active = await seedReservation(t, {
      flavor_id: plain.id,
      project_id: p,
      start: '2029-12-31T00:00',
      end: '2030-01-05T00:00',
      status: 'ACTIVE',
      lease_id: randomUUID(),
    });
    mine.complete = await seedReservation(t, {
      flavor_id: plain.id,
      project_id: p,
      start: '2029-12-01T00:00',
      end: '2029-12-02T00:00',
      status: 'COMPLETE',
      lease_id: randomUUID(),
    });
    mine.error = await seedReservation(t, {
      flavor_id: plain.id,
      project_id: p,
      start: '2030-03-01T00:00',
      end: '2030-03-02T00:00',
      status: 'ERROR',
    });
    theirs = await seedReservation(t, {
      flavor_id: plain.id,
      project_id: OTHER['x-project-id'],
      start: '2030-01-20T00:00',
      end: '2030-01-21T00:00',
      status: 'ALLOCATED',
      lease_id: randomUUID(),
    });
    theirsDone = await seedReservation(t, {
      flavor_id: plain.id,
      project_id: OTHER['x-project-id'],
      start: '2029-11-01T00:00',
      end: '2029-11-02T00:00',
      status: 'COMPLETE',
    });
  });
  afterAll(async () => t?.close());

  const get = (url: string, h: Headers = MEMBER) => call(t, 'GET', url, h);

  describe('GET /v1/reservations/{id}/calendar.ics', () => {
    it('one VEVENT: UID = the id, UTC start and end, summary and description read back exactly', async () => {
      for (const url of [`/v1/reservations/${mine.pending}/calendar.ics`, `/v1/reservations/${mine.pending}/calendar.ics/`]) {
        const res = await get(url);
        const cal = expectCalendar(res, new RegExp(`^reservation-${mine.pending}\\.ics$`));
        expect(cal.events).toHaveLength(1);
        const e = cal.events[0]!;
        expect(e.uid).toBe(mine.pending);
        expect([e.start, e.end, e.startUtc, e.endUtc]).toEqual(['2030-02-03T10:00:00Z', '2030-02-04T12:30:00Z', true, true]);
        expect(e.stamp).toBe('2030-01-01T00:00:30Z');
        expect(e.summary).toBe(`${ODD_NAME} × 4`);
        const lines = e.description.split('\n');
        expect(lines).toContain('Status: PENDING_CREATE');
        expect(lines).toContain(`Reservation: ${mine.pending}`);
        expect(lines).toContain(`Project: ${MEMBER['x-project-id']}`);
        expect(lines).toContain(`Availability zone: ${ODD_ZONE}`);
        expect(e.location).toBe(ODD_ZONE);
        expect(e.status).toBe('TENTATIVE');
        // The raw form: UTC "Z" times, and the TEXT escapes of RFC 5545 §3.3.11.
        expect(rawLines(res.body, 'UID')).toEqual([`UID:${mine.pending}`]);
        expect(rawLines(res.body, 'DTSTART')).toEqual(['DTSTART:20300203T100000Z']);
        expect(rawLines(res.body, 'DTEND')).toEqual(['DTEND:20300204T123000Z']);
        expect(rawLines(res.body, 'SUMMARY')).toEqual(['SUMMARY:gpu\\; "ä\\,ö" \\\\ 東京 ✓ × 4']);
        expect(res.body).toMatch(/^PRODID:.*Warre/m);
      }
    });

    it('a long non-ASCII summary is folded at 75 octets, never inside a character, and unfolds to the name', async () => {
      const res = await get(`/v1/reservations/${mine.allocated}/calendar.ics`);
      const cal = expectCalendar(res);
      const e = cal.events[0]!;
      expect(e.summary).toBe(`${LONG_NAME} × 2`);
      expect(e.status).toBe('CONFIRMED');
      expect(e.description.split('\n')).toEqual(expect.arrayContaining(['Status: ALLOCATED', `Reservation: ${mine.allocated}`]));
      // The SUMMARY property spans several physical lines (continuations begin with a space).
      const lines = res.body.split('\r\n');
      const i = lines.findIndex((l) => l.startsWith('SUMMARY:'));
      expect(lines[i + 1]!.startsWith(' ')).toBe(true);
      expect(Buffer.byteLength(`${LONG_NAME} × 2`)).toBeGreaterThan(150);
    });

    it("any status of one's own reservation, COMPLETE and ERROR included", async () => {
      for (const [id, status] of [
        [mine.complete, 'COMPLETE'],
        [mine.error, 'ERROR'],
        [mine.active, 'ACTIVE'],
      ] as const) {
        const e = expectCalendar(await get(`/v1/reservations/${id}/calendar.ics/`)).events;
        expect(e.map((x) => x.uid)).toEqual([id]);
        expect(e[0]!.description.split('\n')).toContain(`Status: ${status}`);
        expect(e[0]!.summary).toBe('gpu.large × 1');
        expect(e[0]!.location).toBeNull();
      }
    });

    it("another project's, unknown or malformed id: 404 as GET /v1/reservations/{id}/; 200 for admin and readers", async () => {
      for (const url of [`/v1/reservations/${theirs}/calendar.ics`, `/v1/reservations/${theirs}/calendar.ics/`]) {
        expectError(await get(url), 404, `Reservation ${theirs} doesn't exist`);
        expect(uids(expectCalendar(await get(url, ADMIN)))).toEqual([theirs]);
        expect(uids(expectCalendar(await get(url, READER)))).toEqual([theirs]);
      }
      expectError(await get(`/v1/reservations/${mine.pending}/calendar.ics`, OTHER), 404, `Reservation ${mine.pending} doesn't exist`);
      const unknown = randomUUID();
      expectError(await get(`/v1/reservations/${unknown}/calendar.ics`), 404, `Reservation ${unknown} doesn't exist`);
      expectError(await get(`/v1/reservations/${unknown}/calendar.ics`, ADMIN), 404, `Reservation ${unknown} doesn't exist`);
      expectError(await get('/v1/reservations/1/calendar.ics', ADMIN), 404, "Reservation 1 doesn't exist");
      expectError(await get('/v1/reservations/calendar.ics/calendar.ics', ADMIN), 404, "Reservation calendar.ics doesn't exist");
    });

    it('HEAD answers the headers of GET', async () => {
      const res = await call(t, 'GET', `/v1/reservations/${mine.pending}/calendar.ics`, MEMBER);
      const head = await t.app.inject({ method: 'HEAD', url: `/v1/reservations/${mine.pending}/calendar.ics`, headers: MEMBER });
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-type']).toBe(res.headers['content-type']);
      expect(head.headers['content-disposition']).toBe(res.headers['content-disposition']);
    });
  });

  describe('GET /v1/reservations/calendar.ics', () => {
    it("the caller's project's PENDING_CREATE, ALLOCATED and ACTIVE reservations, earliest start first", async () => {
      for (const url of ['/v1/reservations/calendar.ics', '/v1/reservations/calendar.ics/']) {
        const res = await get(url);
        const cal = expectCalendar(res, /^reservations\.ics$/);
        expect(uids(cal)).toEqual([mine.active, mine.allocated, mine.pending]);
        expect(cal.events.map((e) => [e.start, e.end, e.startUtc && e.endUtc])).toEqual([
          ['2029-12-31T00:00:00Z', '2030-01-05T00:00:00Z', true],
          ['2030-02-01T00:00:00Z', '2030-02-01T06:00:00Z', true],
          ['2030-02-03T10:00:00Z', '2030-02-04T12:30:00Z', true],
        ]);
        expect(cal.events.map((e) => e.summary)).toEqual(['gpu.large × 1', `${LONG_NAME} × 2`, `${ODD_NAME} × 4`]);
        for (const e of cal.events) {
          expect(e.description.split('\n')).toEqual(
            expect.arrayContaining([`Reservation: ${e.uid}`, `Project: ${MEMBER['x-project-id']}`]),
          );
          expect(e.stamp).toBe('2030-01-01T00:00:30Z');
        }
        expect(res.body.split('\r\n').filter((l) => l === 'BEGIN:VEVENT')).toHaveLength(3);
      }
      expect(uids(expectCalendar(await get('/v1/reservations/calendar.ics', OTHER)))).toEqual([theirs]);
    });

    it('no reservations: a valid calendar with no event', async () => {
      const cal = expectCalendar(await get('/v1/reservations/calendar.ics', as(uniq('empty'))));
      expect(cal.events).toEqual([]);
    });

    it('all_projects=true for list:all roles lists every project (still not COMPLETE or ERROR); ignored for members', async () => {
      for (const h of [ADMIN, READER]) {
        for (const v of ['true', '1', 'TRUE']) {
          const cal = expectCalendar(await get(`/v1/reservations/calendar.ics?all_projects=${v}`, h));
          expect(uids(cal)).toEqual([mine.active, theirs, mine.allocated, mine.pending]);
          expect(uids(cal)).not.toContain(theirsDone);
        }
        // Without it, their own project: nothing.
        expect(expectCalendar(await get('/v1/reservations/calendar.ics?all_projects=false', h)).events).toEqual([]);
        expect(expectCalendar(await get('/v1/reservations/calendar.ics/', h)).events).toEqual([]);
      }
      for (const v of ['true', '1']) {
        expect(uids(expectCalendar(await get(`/v1/reservations/calendar.ics?all_projects=${v}`)))).toEqual([
          mine.active,
          mine.allocated,
          mine.pending,
        ]);
        expect(uids(expectCalendar(await get(`/v1/reservations/calendar.ics/?all_projects=${v}`, OTHER)))).toEqual([theirs]);
      }
    });

    it('a bad all_projects value is a 400 for anyone', async () => {
      for (const h of [ADMIN, MEMBER]) {
        for (const v of ['maybe', 'yes', '2', '']) {
          const res = await get(`/v1/reservations/calendar.ics?all_projects=${v}`, h);
          expectError(res, 400, `Invalid value for query parameter all_projects: "${v}" (expected true, false, 1 or 0)`);
        }
      }
    });

    it('no identity: 401 in the one error shape', async () => {
      expectError(await get('/v1/reservations/calendar.ics', {}), 401);
      expectError(await get(`/v1/reservations/${mine.pending}/calendar.ics`, {}), 401);
    });
  });

  it.runIf(dialect === 'sqlite')(
    `the list stops at ${CALENDAR_MAX_EVENTS} events, the earliest`,
    async () => {
      const project = uniq('many');
      const base = at('2031-01-01T00:00');
      const ids: string[] = [];
      const rows = [];
      for (let i = 0; i <= CALENDAR_MAX_EVENTS; i++) {
        const id = randomUUID();
        ids.push(id);
        // Inserted latest first, so the answer's order is the query's, not the table's.
        const start = base + (CALENDAR_MAX_EVENTS - i) * 60_000;
        rows.push({
          id,
          created_at: t.db.codec.dt(base),
          user_id: 'u',
          project_id: project,
          flavor_id: plain.id,
          lease_id: null,
          compute_flavor: null,
          status: 'PENDING_CREATE',
          status_reason: null,
          start: t.db.codec.dt(start),
          end: t.db.codec.dt(start + 3_600_000),
          instance_count: 1,
        });
      }
      for (let i = 0; i < rows.length; i += 500)
        await t.db.kysely
          .insertInto('reservation')
          .values(rows.slice(i, i + 500))
          .execute();
      const res = await get('/v1/reservations/calendar.ics', as(project));
      expect(res.statusCode).toBe(200);
      checkFraming(res.body);
      // Only the UIDs: reading 10,000 events through ICAL.Event takes seconds.
      const got = new ICAL.Component(ICAL.parse(res.body)).getAllSubcomponents('vevent').map((v) => v.getFirstPropertyValue('uid'));
      expect(got).toHaveLength(CALENDAR_MAX_EVENTS);
      // Earliest start first; the one left out is the latest, the first inserted.
      expect(got).toEqual(ids.slice(1).reverse());
    },
    60_000,
  );
});

describe.each(DIALECTS)('calendar export denied by a policy file on %s', (dialect) => {
  let t: TestApp;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-calendar-policy-'));
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, '"warre:reservation:calendar": "rule:admin_required"\n');
    t = await buildTestApp(dialect, { now: clock.now, policyFile: file });
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('403 Not authorised for both paths, before any lookup; the other rules keep their defaults', async () => {
    const f = await createFlavor(t);
    const id = await seedReservation(t, {
      flavor_id: f.id,
      project_id: MEMBER['x-project-id'],
      start: '2030-02-01T00:00',
      end: '2030-02-01T01:00',
    });
    for (const url of [
      '/v1/reservations/calendar.ics',
      '/v1/reservations/calendar.ics/?all_projects=true',
      `/v1/reservations/${id}/calendar.ics`,
      `/v1/reservations/${randomUUID()}/calendar.ics/`,
      '/v1/reservations/x/calendar.ics',
    ]) {
      expectError(await call(t, 'GET', url, MEMBER), 403, 'Not authorised');
    }
    expect(uids(expectCalendar(await call(t, 'GET', `/v1/reservations/${id}/calendar.ics`, ADMIN)))).toEqual([id]);
    expect(uids(expectCalendar(await call(t, 'GET', '/v1/reservations/calendar.ics?all_projects=1', ADMIN)))).toEqual([id]);
    // The reservation itself is still the member's to read.
    expect((await call(t, 'GET', `/v1/reservations/${id}/`, MEMBER)).statusCode).toBe(200);
  });
});

describe('reservationsCalendar (no database)', () => {
  const flavor = {
    id: randomUUID(),
    name: 'x',
    description: null,
    vcpu: 1,
    memory_mb: 1,
    disk_gb: 1,
    ephemeral_gb: 0,
    active: true,
    properties: null,
    max_length_hours: null,
    slots: 1,
    is_public: true,
    extra_specs: {},
    start: null,
    end: null,
    category: null,
    availability_zone: null,
  };
  const reservation = (over: Partial<ReservationWithFlavor>): ReservationWithFlavor =>
    ({
      id: randomUUID(),
      created_at: at('2030-01-01T00:00'),
      user_id: 'u',
      project_id: 'p',
      flavor_id: flavor.id,
      lease_id: null,
      compute_flavor: null,
      status: 'PENDING_CREATE',
      status_reason: null,
      start: at('2030-01-02T00:00'),
      end: at('2030-01-02T01:00'),
      instance_count: 1,
      flavor,
      ...over,
    }) as ReservationWithFlavor;

  it('control characters become U+FFFD; line breaks, escapes and status reasons read back', async () => {
    const r = reservation({
      flavor: { ...flavor, name: 'a\u0000b\u0007c\u007fd\te', availability_zone: 'line1\nline2\r\nline3' } as never,
      status: 'ERROR',
      status_reason: 'Blazar said: "Not enough hosts available"; retry, later\\',
    });
    const text = await reservationsCalendar([r], at('2030-01-01T12:00'));
    checkFraming(text);
    const [e] = parse(text).events;
    expect(e!.uid).toBe(r.id);
    expect(e!.summary).toBe('a\ufffdb\ufffdc\ufffdd\te × 1');
    expect(e!.location).toBe('line1\nline2\nline3');
    expect(e!.status).toBe('CANCELLED');
    expect(e!.description.split('\n')).toEqual(
      expect.arrayContaining([
        'Status: ERROR',
        'Status reason: Blazar said: "Not enough hosts available"; retry, later\\',
        `Reservation: ${r.id}`,
        'Availability zone: line1',
      ]),
    );
  });

  it('folds every line at 75 octets with multi-octet characters at every offset', async () => {
    const rows = Array.from({ length: 8 }, (_, i) =>
      reservation({
        flavor: {
          ...flavor,
          name: Array.from(`${'a'.repeat(i)}${'😀東ä'.repeat(20)}`)
            .slice(0, 64)
            .join(''),
        } as never,
      }),
    );
    const text = await reservationsCalendar(rows, at('2030-01-01T12:00'));
    checkFraming(text);
    expect(parse(text).events.map((e) => e.summary)).toEqual(rows.map((r) => `${r.flavor.name} × 1`));
  });

  it('renders in chunks the very text ical-generator renders as one calendar (plus the final CRLF)', async () => {
    const names = ['gpu.large', ODD_NAME, LONG_NAME, 'a'.repeat(61), 'a'.repeat(62), 'a'.repeat(63), '😀'.repeat(30)];
    const rows = Array.from({ length: 650 }, (_, i) =>
      reservation({
        flavor: { ...flavor, name: names[i % names.length]!, availability_zone: i % 3 ? null : ODD_ZONE } as never,
        instance_count: i + 1,
        start: at('2030-01-02T00:00') + i * 60_000,
      }),
    );
    const now = at('2030-01-01T12:00');
    const whole = ical({ prodId: CALENDAR_PROD_ID, name: 'Warre reservations', events: rows.map((r) => calendarEvent(r, now)) }).toString();
    const chunked = await reservationsCalendar(rows, now);
    expect(chunked).toBe(`${whole}\r\n`);
    checkFraming(chunked);
    expect(uids(parse(chunked))).toEqual(rows.map((r) => r.id));
  });
});
