/**
 * The bench's wrk driver (src/bench/wrk.ts): its report parser on wrk 4.1's text, and one real
 * run against a local HTTP server (wrk is a package .ci/run installs).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/bench/args.js';
import { parseWrk, runWrk, wrkInstalled } from '../../src/bench/wrk.js';

const REPORT = `Running 10s test @ http://127.0.0.1:40123/v1/reservations/?all_projects=true&limit=1000
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   289.52ms   85.10ms 900.01ms   71.23%
    Req/Sec    55.41     20.03   110.00     68.00%
  Latency Distribution
     50%  280.11ms
     75%  330.50ms
     90%  400.00ms
     99%    1.20s
  1108 requests in 10.01s, 905.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:    110.69
Transfer/sec:     90.42MB
`;

describe('wrk report', () => {
  it('gives the rate, the percentiles in ms, non-2xx answers and socket errors', () => {
    expect(parseWrk(REPORT)).toEqual({ reqPerSec: 110.69, p50: 280.11, p99: 1200, non2xx: 7, errors: 5 });
  });
  it('reads microseconds, and no error lines as none', () => {
    const quick = REPORT.replace('280.11ms', '812.00us').replace(/^ {2}Socket errors.*\n {2}Non-2xx.*\n/m, '');
    expect(parseWrk(quick)).toMatchObject({ p50: 0.812, non2xx: 0, errors: 0 });
  });
  it('refuses a report without the numbers', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:9 Connection refused')).toThrow(/unexpected report/);
  });
  it('is chosen with --load, and refused with anything else', () => {
    expect(parseArgs(['--load', 'autocannon']).load).toBe('autocannon');
    expect(parseArgs(['--load=wrk']).load).toBe('wrk');
    expect(parseArgs([]).load).toBeNull();
    expect(() => parseArgs(['--load', 'ab'])).toThrow(/wrk or autocannon/);
  });
});

describe.runIf(wrkInstalled())('wrk against a server', () => {
  const seen: { path: string; project: string | undefined }[] = [];
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ path: req.url ?? '', project: req.headers['x-project-id'] as string | undefined });
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('loads the URL with the headers for the duration, and counts non-2xx answers', async () => {
    const ok = await runWrk(`${url}/v1/flavors/`, { 'X-Project-Id': 'p1' }, { connections: 4, duration: 1 });
    expect(ok.reqPerSec).toBeGreaterThan(0);
    expect(ok.non2xx).toBe(0);
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.every((s) => s.path === '/v1/flavors/' && s.project === 'p1')).toBe(true);
    const missing = await runWrk(`${url}/missing`, {}, { connections: 2, duration: 1 });
    expect(missing.non2xx).toBeGreaterThan(0);
  });
});
