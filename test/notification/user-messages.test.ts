/**
 * User messages end to end, wired from configuration as a running Warre wires
 * them (createMessenger): the owner is looked up in the real Keystone
 * (`email`, `full_name`, docs/interop.md#keystone-users); SMTP into a local sink, Taynac
 * (fake, docs/interop.md#taynac) found through the Keystone catalog. The worker and the event
 * handler drive them; a failing mail service never blocks a state change.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServiceSession } from '../../src/cli/runtime.js';
import { createMessenger } from '../../src/cli/worker-parts.js';
import type { Db } from '../../src/db/connect.js';
import type { Flavor } from '../../src/domain/types.js';
import { BlazarLeaseBackend } from '../../src/drivers/blazar/client.js';
import { LeaseEventHandler } from '../../src/notification/lease-events.js';
import type { WarreMessenger } from '../../src/notification/warre-messenger.js';
import { LeaseWorker } from '../../src/worker/lease-worker.js';
import { migratedDatabase } from '../support/db.js';
import { FakeBlazar } from '../support/fake-blazar.js';
import { FakeSession } from '../support/fake-session.js';
import { FakeTaynac } from '../support/fake-taynac.js';
import * as ks from '../support/keystone.js';
import {
  capturePino,
  configFrom,
  DAY,
  type IniSections,
  MINUTE,
  reservationRow,
  seedFlavor,
  seedReservation,
} from '../support/lifecycle-helpers.js';
import { SmtpSink } from '../support/smtp-sink.js';

const blazar = new FakeBlazar();
const taynac = new FakeTaynac();
let db: Db;
let closeDb: () => Promise<void>;
let flavor: Flavor;
let alice: ks.Named;
let noMail: ks.Named;
let region = '';

beforeAll(async () => {
  await ks.ensureKeystone();
  await blazar.start();
  await taynac.start();
  ({ db, close: closeDb } = await migratedDatabase('mysql'));
  flavor = await seedFlavor(db, { name: 'lc.mail' });
  alice = await ks.createUser({ password: 'pw-alice', email: 'alice@example.edu', full_name: 'Alice Example' });
  noMail = await ks.createUser({ password: 'pw-nomail' });
  // Taynac's `message` endpoint in a region of our own (the catalog is shared with other tests).
  region = ks.uniqueName('lc-region');
  await ks.adminRequest('POST', '/regions', { region: { id: region } });
  const service = await ks.createService(ks.uniqueName('taynac'), 'message');
  await ks.createEndpoint(service.id, taynac.url, 'public', region);
});

afterAll(async () => {
  await ks.cleanupKeystone();
  if (region) await ks.adminRequest('DELETE', `/regions/${region}`, undefined, [204, 404]).catch(() => undefined);
  await closeDb?.();
  await blazar.stop();
  await taynac.stop();
});

/** Warre's own configuration for these tests: [service_auth] is the Keystone admin. */
function config(extra: IniSections) {
  return configFrom({
    service_auth: {
      auth_url: ks.keystoneUrl(),
      username: 'admin',
      password: ks.ADMIN_PASSWORD,
      user_domain_name: 'Default',
      project_name: 'admin',
      project_domain_name: 'Default',
      region_name: region,
    },
    ...extra,
  });
}

function decodeQuotedPrintable(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

describe('user messages', () => {
  let messenger: WarreMessenger;
  let log: ReturnType<typeof capturePino>;
  let session: FakeSession;
  const sink = new SmtpSink();

  beforeAll(async () => {
    await sink.start();
  });
  afterAll(async () => {
    await sink.stop();
  });
  beforeEach(() => {
    blazar.reset();
    taynac.reset();
    sink.messages.length = 0;
    log = capturePino();
    session = new FakeSession({ reservation: blazar.url });
  });

  function smtpMessenger(port = sink.port): WarreMessenger {
    const cfg = config({
      warre: { user_notifier: 'smtp' },
      smtp: { host: '127.0.0.1', port, from_address: 'Nectar Reservations <reservations@example.org>' },
    });
    return createMessenger(cfg, log.logger, createServiceSession(cfg, log.logger), null);
  }

  async function pending(userId: string): Promise<string> {
    const start = Math.floor((Date.now() + DAY) / MINUTE) * MINUTE;
    return seedReservation(db, { flavor, start, end: start + DAY, userId, projectId: 'p-mail' });
  }

  const worker = (m: WarreMessenger) =>
    new LeaseWorker({
      db,
      leases: new BlazarLeaseBackend(),
      botSession: async () => session,
      messenger: m,
      log: log.logger,
      claimTtlMs: 60_000,
      retryTimeoutMs: 60_000,
    });

  it('SMTP: create and start e-mails reach the owner from Keystone, once each', async () => {
    messenger = smtpMessenger();
    try {
      const id = await pending(alice.id);
      expect(await worker(messenger).runOnce()).toBe(1);
      expect((await reservationRow(db, id))!.status).toBe('ALLOCATED');
      expect(sink.messages).toHaveLength(1);
      const mail = sink.messages[0]!;
      expect(mail.to).toEqual(['alice@example.edu']);
      expect(mail.from).toBe('reservations@example.org');
      expect(mail.raw).toMatch(/^To: "?Alice Example"? <alice@example\.edu>/m);
      expect(mail.raw).toMatch(/^Subject: Nectar Reservation System Notification/m);
      const body = decodeQuotedPrintable(mail.raw);
      expect(body).toContain('Hello Alice Example,');
      expect(body).toContain('your reservation on the Nectar Research Cloud is confirmed');
      expect(body).toContain(id);
      expect(body).toContain('lc.mail');

      const leaseId = (await reservationRow(db, id))!.lease_id!;
      const handler = new LeaseEventHandler(db, messenger, log.logger);
      await handler.handle('start_lease', leaseId);
      await handler.handle('start_lease', leaseId);
      expect(sink.messages).toHaveLength(2);
      expect(decodeQuotedPrintable(sink.messages[1]!.raw)).toContain('Your reservation on the Nectar Research Cloud has begun.');
    } finally {
      await messenger.close();
    }
  });

  it('SMTP refusing (550) or unreachable never blocks the state change; a 451 is retried', async () => {
    messenger = smtpMessenger();
    try {
      sink.rejectNext(1, 550);
      const refused = await pending(alice.id);
      await worker(messenger).runOnce();
      expect((await reservationRow(db, refused))!.status).toBe('ALLOCATED');
      expect(sink.messages).toHaveLength(0);
      expect(log.find('Failed to send the user message; giving up')).toHaveLength(1);

      sink.rejectNext(1, 451);
      const later = await pending(alice.id);
      await worker(messenger).runOnce();
      expect((await reservationRow(db, later))!.status).toBe('ALLOCATED');
      expect(sink.messages).toHaveLength(1);
      expect(log.find('Failed to send the user message; will retry')).toHaveLength(1);
    } finally {
      await messenger.close();
    }

    // Nothing listens on that port any more.
    const deadPort = sink.port;
    await sink.stop();
    messenger = smtpMessenger(deadPort);
    try {
      const id = await pending(alice.id);
      await worker(messenger).runOnce();
      const row = (await reservationRow(db, id))!;
      expect(row.status).toBe('ALLOCATED');
      const handler = new LeaseEventHandler(db, messenger, log.logger);
      expect(await handler.handle('start_lease', row.lease_id!)).toBe('applied');
      expect((await reservationRow(db, id))!.status).toBe('ACTIVE');
      expect(log.find('Failed to send the user message; giving up').length).toBeGreaterThanOrEqual(3);
    } finally {
      await messenger.close();
      await sink.start();
    }
  });

  it('an owner without an e-mail address gets nothing; the reservation moves on', async () => {
    messenger = smtpMessenger();
    try {
      const id = await pending(noMail.id);
      await worker(messenger).runOnce();
      expect((await reservationRow(db, id))!.status).toBe('ALLOCATED');
      expect(sink.messages).toHaveLength(0);
      expect(log.find('User has no email address; message not sent')).toHaveLength(1);
      // An owner Keystone does not know at all: the same.
      const ghost = await pending(randomUUID().replace(/-/g, ''));
      await worker(messenger).runOnce();
      expect((await reservationRow(db, ghost))!.status).toBe('ALLOCATED');
      expect(sink.messages).toHaveLength(0);
    } finally {
      await messenger.close();
    }
  });

  it('Taynac: the message goes to the owner through the catalog endpoint; a refusal blocks nothing', async () => {
    messenger = createMessenger(
      config({ warre: { user_notifier: 'taynac' } }),
      log.logger,
      createServiceSession(config({}), log.logger),
      null,
    );
    try {
      const id = await pending(alice.id);
      await worker(messenger).runOnce();
      expect((await reservationRow(db, id))!.status).toBe('ALLOCATED');
      expect(taynac.messages).toHaveLength(1);
      const m = taynac.messages[0]!;
      expect(m).toMatchObject({ subject: 'Nectar Reservation System Notification', recipient: 'alice@example.edu', cc: [] });
      expect(m.body).toContain('Hello Alice Example,');
      expect(m.body).toContain(id);
      const post = taynac.requestsFor('POST')[0]!;
      expect(post.path).toBe('/v1/message/');
      expect(String(post.headers['x-auth-token'])).toMatch(/^gAAAAA/);
      expect(log.find('Created Taynac message')[0]).toMatchObject({ backend_id: m.backendId });

      taynac.forbidden = true;
      const handler = new LeaseEventHandler(db, messenger, log.logger);
      await handler.handle('start_lease', (await reservationRow(db, id))!.lease_id!);
      expect((await reservationRow(db, id))!.status).toBe('ACTIVE');
      expect(taynac.messages).toHaveLength(1);
      expect(log.find('Failed to send the user message; giving up')).toHaveLength(1);
    } finally {
      await messenger.close();
    }
  });
});
