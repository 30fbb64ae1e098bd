/**
 * SLOW (about 1.5–2.5 minutes, real time): `warre all` (what `npm start` runs)
 * with its built-in defaults — noauth, SQLite, the lease simulator, logged
 * user messages. A reservation starting at the next whole minute and ending a
 * minute later, booked through the API, becomes ALLOCATED, then ACTIVE at its
 * start, then COMPLETE at its end. (The same chain with a settable clock runs
 * in seconds in lease-events.test.ts.)
 *
 * Needs `npm run build`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MINUTE, nextMinute, requireBuild, WarreProcess, waitFor } from '../support/lifecycle-helpers.js';

let dir: string;
let warre: WarreProcess;
let api: string;

const ADMIN = { 'x-user-id': 'admin-user', 'x-project-id': 'admin-project', 'x-roles': 'admin,member,reader' };
const MEMBER = { 'x-user-id': 'u-aio', 'x-project-id': 'p-aio', 'x-roles': 'member,reader' };

async function request(
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${api}${url}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  requireBuild();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-lc-aio-'));
  warre = new WarreProcess(['all'], {
    WARRE_DATABASE__CONNECTION: `sqlite:///${path.join(dir, 'warre.db')}`,
    WARRE_API__HOST: '127.0.0.1',
    WARRE_API__PORT: '0',
  });
  await waitFor(() => /API:\s+(http:\/\/\S+)\/v1\//.exec(warre.stdout) || !warre.alive, 'the all-in-one banner', 60_000);
  if (!warre.alive) throw new Error(`warre all exited:\n${warre.stderr}\n${warre.stdout}`);
  api = /API:\s+(http:\/\/\S+)\/v1\//.exec(warre.stdout)![1]!;
});

afterAll(async () => {
  await warre?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('warre all with the lease simulator (slow)', () => {
  it('a reservation goes ALLOCATED → ACTIVE at its start → COMPLETE at its end', async () => {
    const flavor = await request('POST', '/v1/flavors/', ADMIN, { name: 'aio.small', vcpu: 2, memory_mb: 2048, disk_gb: 20, slots: 2 });
    expect(flavor.status).toBe(202);
    const start = nextMinute(15_000);
    const end = start + MINUTE;
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const created = await request('POST', '/v1/reservations/', MEMBER, {
      flavor_id: flavor.json.id,
      start: iso(start),
      end: iso(end),
      instance_count: 2,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const id: string = created.json.id;
    const get = async () => (await request('GET', `/v1/reservations/${id}`, MEMBER)).json;

    const allocated = await waitFor(
      async () => {
        const r = await get();
        return r.status !== 'PENDING_CREATE' ? r : null;
      },
      'the worker to create the lease',
      30_000,
      200,
    );
    expect(allocated).toMatchObject({ status: 'ALLOCATED', status_reason: null });
    expect(allocated.lease_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(allocated.compute_flavor).toMatch(/^[0-9a-f-]{36}$/);

    await waitFor(async () => (await get()).status === 'ACTIVE', 'the start event', start - Date.now() + 60_000, 500);
    expect(Date.now()).toBeGreaterThanOrEqual(start);
    await waitFor(async () => (await get()).status === 'COMPLETE', 'the end event', end - Date.now() + 60_000, 500);
    expect(Date.now()).toBeGreaterThanOrEqual(end);

    await waitFor(
      () => warre.find('User message (logging notifier, not sent)', { reservation_id: id, event: 'end' }).length > 0,
      'the end message',
    );
    const messages = warre.find('User message (logging notifier, not sent)', { reservation_id: id }).map((l) => l['event']);
    expect(messages).toEqual(['create', 'start', 'before_end', 'end']);
    expect(warre.alive).toBe(true);
  }, 240_000);
});
