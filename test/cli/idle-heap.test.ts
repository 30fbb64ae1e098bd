/**
 * An API process trims its heap once it falls idle, never while a request is in flight, and
 * not again until a request came in (src/cli/idle-heap.ts, docs/operations.md#memory).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { fullGc, type IdleHeapTrim, type IdleState, shouldTrim, trimHeapWhenIdle } from '../../src/cli/idle-heap.js';

const MB = 1 << 20;
const idle: IdleState = {
  inFlight: 0,
  idleForMs: 10_000,
  requestsSinceTrim: 3,
  youngGeneration: 1 * MB,
  rss: 130 * MB,
  rssFloor: 100 * MB,
};

describe('shouldTrim', () => {
  it('trims an idle process that has grown', () => {
    expect(shouldTrim(idle, 6000, 16 * MB)).toBe(true);
  });
  it('trims an idle process whose young generation has grown, even if the process has not', () => {
    expect(shouldTrim({ ...idle, rss: 101 * MB, youngGeneration: 16 * MB }, 6000, 16 * MB)).toBe(true);
  });
  it.each([
    ['a request is in flight', { inFlight: 1 }],
    ['the last request ended too recently', { idleForMs: 5999 }],
    ['no request came since the last trim', { requestsSinceTrim: 0 }],
    ['neither the young generation nor the process has grown', { rss: 116 * MB }],
  ])('leaves the heap alone when %s', (_why, change) => {
    expect(shouldTrim({ ...idle, ...change }, 6000, 16 * MB)).toBe(false);
  });
});

describe('trimHeapWhenIdle on a real server', () => {
  let server: http.Server | null = null;
  let trim: IdleHeapTrim | null = null;
  afterEach(async () => {
    trim?.stop();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = null;
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const get = async (base: string, path: string) => (await fetch(`${base}${path}`, { headers: { connection: 'close' } })).text();

  async function start(): Promise<{ base: string; logs: Record<string, unknown>[] }> {
    const logs: Record<string, unknown>[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    server = http.createServer((req, res) => {
      // Garbage, as an answer leaves it behind.
      let junk: unknown[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `row ${i}` }));
      junk = null;
      const hold = req.url === '/slow' ? 600 : 0;
      setTimeout(() => res.end(String(junk ?? 'ok')), hold);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    trim = trimHeapWhenIdle(server, log, { idleMs: 200, slackBytes: 0 });
    return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logs };
  }

  it('has a full collection to call on this Node', () => {
    expect(fullGc()).toBeTypeOf('function');
  });

  it('trims once after the requests stop, and not again until another request', async () => {
    const { base, logs } = await start();
    await get(base, '/');
    await get(base, '/');
    expect(trim!.trims).toBe(0);
    for (let waited = 0; trim!.trims === 0 && waited < 5000; waited += 50) await sleep(50);
    expect(trim!.trims).toBe(1);
    const line = logs.find((l) => l.msg === 'idle: heap trimmed');
    expect(line).toMatchObject({ heapBeforeMb: expect.any(Number), heapAfterMb: expect.any(Number) });
    expect(line!.heapAfterMb as number).toBeLessThanOrEqual(line!.heapBeforeMb as number);
    await sleep(600);
    expect(trim!.trims).toBe(1);
    await get(base, '/');
    for (let waited = 0; trim!.trims === 1 && waited < 5000; waited += 50) await sleep(50);
    expect(trim!.trims).toBe(2);
  });

  it('never trims while a request is in flight', async () => {
    const { base } = await start();
    const slow = get(base, '/slow');
    await sleep(450); // past idleMs since the request started, still in flight
    expect(trim!.trims).toBe(0);
    await slow;
    for (let waited = 0; trim!.trims === 0 && waited < 5000; waited += 50) await sleep(50);
    expect(trim!.trims).toBe(1);
  });
});
