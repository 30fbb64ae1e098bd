/**
 * One racing lease worker in a worker thread (its own event loop and database
 * connection), for worker.test.ts: built code from dist/, Blazar at
 * workerData.blazarUrl. Posts {kind:'ready'}, waits for any message, runs
 * LeaseWorker.runOnce(), posts every user message and error log, then
 * {kind:'done', n}.
 */
import { parentPort, workerData } from 'node:worker_threads';

const { dist, target, blazarUrl } = workerData;
const { openDatabase } = await import(`${dist}/db/connect.js`);
const { LeaseWorker } = await import(`${dist}/worker/lease-worker.js`);
const { BlazarLeaseBackend } = await import(`${dist}/drivers/blazar/client.js`);

const db = openDatabase(target, { poolSize: 4 });
const session = { getToken: async () => 'token-1', getEndpoint: async () => blazarUrl, invalidate() {} };
const post = (m) => parentPort.postMessage(m);
const messenger = {
  userMessage: async (event, r) => post({ kind: 'user', event, id: r.id }),
  notify: async (event, r) => post({ kind: 'notify', event, id: r.id }),
};
const text = (o) => (o && typeof o === 'object' && 'err' in o ? String(o.err?.message ?? o.err) : '');
const log = {
  debug() {},
  info() {},
  warn: (o, m) => post({ kind: 'log', level: 'warn', msg: m, err: text(o) }),
  error: (o, m) => post({ kind: 'log', level: 'error', msg: m, err: text(o) }),
};
const worker = new LeaseWorker({
  db,
  leases: new BlazarLeaseBackend(),
  botSession: async () => session,
  messenger,
  log,
  claimTtlMs: 60_000,
  retryTimeoutMs: 900_000,
});

parentPort.once('message', async () => {
  let n = 0;
  try {
    n = await worker.runOnce();
  } catch (err) {
    post({ kind: 'log', level: 'error', msg: 'runOnce failed', err: String(err?.message ?? err) });
  }
  await db.close();
  post({ kind: 'done', n });
});
post({ kind: 'ready' });
