/**
 * Admin writes racing other writes through two API processes (docs/api.md#flavors): deleting
 * a flavor while reservations and grants are created for it answers 204, 409 "in use" or
 * 404 — never a 5xx from a foreign key; two PATCHes of one flavor (or one maintenance window)
 * at once both take effect. Only outcomes are asserted, never timings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { type HttpAnswer, httpRequest } from '../cli/process.js';
import type { Dialect } from '../support/db.js';
import { type ApiProcesses, startApiProcesses } from './api-processes.js';

const ADMIN = { 'x-user-id': 'admin-user', 'x-project-id': 'admin-project', 'x-roles': 'admin' };
const member = (project: string) => ({ 'x-user-id': `${project}-user`, 'x-project-id': project, 'x-roles': 'member' });
const ROUNDS = 6;
const CLIENTS = 10;

function hoursAhead(h: number): string {
  const base = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
  return new Date(base + h * 3_600_000).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

const statuses = (answers: HttpAnswer[]) => answers.map((a) => `${a.status} ${a.body.slice(0, 120)}`);

describe.each(['mysql', 'postgres'] as Dialect[])('admin write races: 2 API processes on %s', (dialect) => {
  let api: ApiProcesses | undefined;
  let db: Db;
  let port: number;
  let n = 0;
  const tag = () => `${dialect}-${process.pid}-${++n}`;

  beforeAll(async () => {
    api = await startApiProcesses(dialect, 2);
    ({ db, port } = api);
  });

  afterAll(async () => {
    await api?.stop();
  });

  const createFlavor = async (fields: Record<string, unknown> = {}) => {
    const r = await httpRequest(port, 'POST', '/v1/flavors/', ADMIN, {
      name: `race-${tag()}`,
      vcpu: 1,
      memory_mb: 1024,
      disk_gb: 10,
      slots: 100,
      ...fields,
    });
    expect(r.status, r.body).toBe(202);
    return r.json().id as string;
  };

  it('deleting a flavor while reservations and grants are created for it: 204, 409 or 404, never a 5xx', async () => {
    const outcomes = { deleted: 0, inUse: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const flavorId = await createFlavor({ is_public: round % 2 === 0 });
      const creates = Array.from({ length: CLIENTS }, (_, i) => {
        const project = `p-${tag()}`;
        if (i % 2 === 0) {
          return httpRequest(port, 'POST', '/v1/flavorprojects/', ADMIN, { flavor_id: flavorId, project_id: project });
        }
        // Public flavors: anyone books; private ones: a project without a grant is refused with 400.
        return httpRequest(port, 'POST', '/v1/reservations/', member(project), {
          flavor_id: flavorId,
          start: hoursAhead(2 + i),
          end: hoursAhead(3 + i),
        });
      });
      // Deletes fired with the creates and after each other until one is final.
      const deletes = (async () => {
        const answers: HttpAnswer[] = [];
        for (let i = 0; i < 20; i++) {
          const a = await httpRequest(port, 'DELETE', `/v1/flavors/${flavorId}/`, ADMIN);
          answers.push(a);
          if (a.status !== 409) break;
        }
        return answers;
      })();
      const [created, deleted] = await Promise.all([Promise.all(creates), deletes]);
      const all = [...created, ...deleted];
      expect(
        all.filter((a) => a.status >= 500),
        statuses(all).join('\n'),
      ).toEqual([]);
      for (const a of created) {
        expect([200, 400, 404], a.body).toContain(a.status);
        if (a.status === 404) expect(a.json().error_message).toBe('Flavor does not exist');
        if (a.status === 400) expect(a.json().error_message).toBe('Flavor is not accessible');
      }
      for (const a of deleted) {
        expect([204, 409], a.body).toContain(a.status);
        if (a.status === 409) expect(a.json().error_message).toBe(`Flavor ${flavorId} is in use`);
      }
      const last = deleted[deleted.length - 1]!;
      const rows = await db.kysely.selectFrom('flavor').select('id').where('id', '=', flavorId).execute();
      if (last.status === 204) {
        outcomes.deleted++;
        expect(rows).toEqual([]);
        expect(await db.kysely.selectFrom('flavor_project').select('id').where('flavor_id', '=', flavorId).execute()).toEqual([]);
        expect(await db.kysely.selectFrom('reservation').select('id').where('flavor_id', '=', flavorId).execute()).toEqual([]);
      } else {
        outcomes.inUse++;
        expect(rows).toHaveLength(1);
      }
    }
    expect(outcomes.deleted + outcomes.inUse).toBe(ROUNDS);
  });

  it('two PATCHes of one flavor at once both take effect', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const id = await createFlavor({ slots: 1, description: null });
      const answers = await Promise.all([
        httpRequest(port, 'PATCH', `/v1/flavors/${id}/`, ADMIN, { slots: 7 }),
        httpRequest(port, 'PATCH', `/v1/flavors/${id}/`, ADMIN, { description: 'patched' }),
        httpRequest(port, 'PATCH', `/v1/flavors/${id}/`, ADMIN, { category: 'GPU' }),
      ]);
      expect(
        answers.map((a) => a.status),
        statuses(answers).join('\n'),
      ).toEqual([200, 200, 200]);
      const f = (await httpRequest(port, 'GET', `/v1/flavors/${id}/`, ADMIN)).json();
      expect({ slots: f.slots, description: f.description, category: f.category }).toEqual({
        slots: 7,
        description: 'patched',
        category: 'GPU',
      });
    }
  });

  it('two PATCHes of one maintenance window at once both take effect', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const w = await httpRequest(port, 'POST', '/v1/maintenancewindows/', ADMIN, {
        start: hoursAhead(500),
        end: hoursAhead(501),
        note: 'first',
      });
      expect(w.status, w.body).toBe(201);
      const id = w.json().id as string;
      const answers = await Promise.all([
        httpRequest(port, 'PATCH', `/v1/maintenancewindows/${id}/`, ADMIN, { note: 'patched' }),
        httpRequest(port, 'PATCH', `/v1/maintenancewindows/${id}/`, ADMIN, { end: hoursAhead(503) }),
      ]);
      expect(
        answers.map((a) => a.status),
        statuses(answers).join('\n'),
      ).toEqual([200, 200]);
      const got = (await httpRequest(port, 'GET', `/v1/maintenancewindows/${id}/`, ADMIN)).json();
      expect({ note: got.note, end: got.end }).toEqual({ note: 'patched', end: hoursAhead(503) });
    }
  });
});
