/**
 * wrk (Debian package `wrk`), the load generator of the side-by-side measurement
 * (`wrk -t2 -c32`): written in C, it needs a fraction of autocannon's CPU per answer, which
 * matters on two cores shared with the API and the database (an 837 KiB admin page costs
 * autocannon about 4 ms of CPU, BENCHMARKS.md). The bench uses it when it is installed and
 * autocannon otherwise. Its text report is parsed here (wrk has no machine-readable output
 * without a Lua script).
 */
import { execFile, execFileSync } from 'node:child_process';

export interface WrkResult {
  reqPerSec: number;
  /** Latency percentiles in ms. */
  p50: number;
  p99: number;
  non2xx: number;
  /** Connect, read, write errors and timeouts. */
  errors: number;
}

/** Whether `wrk` can be run. */
export function wrkInstalled(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // `wrk --version` prints its version and exits 1; only a missing binary is ENOENT.
    return (err as { code?: string }).code !== 'ENOENT';
  }
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function ms(value: string, unit: string): number {
  const factor = UNIT_MS[unit];
  if (factor === undefined) throw new Error(`wrk: unknown latency unit ${unit}`);
  return Number(value) * factor;
}

/** The numbers of a `wrk --latency` report. */
export function parseWrk(report: string): WrkResult {
  const rate = /^Requests\/sec:\s+([\d.]+)/m.exec(report);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(report);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(report);
  if (!rate || !p50 || !p99) throw new Error(`wrk: unexpected report:\n${report}`);
  const non2xx = /^\s*Non-2xx or 3xx responses:\s+(\d+)/m.exec(report);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report);
  return {
    reqPerSec: Number(rate[1]),
    p50: ms(p50[1]!, p50[2]!),
    p99: ms(p99[1]!, p99[2]!),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    errors: socket ? socket.slice(1).reduce((n, x) => n + Number(x), 0) : 0,
  };
}

/** `wrk -t2 -c<connections> -d<seconds>s --latency` with the headers, on `url`. */
export function runWrk(url: string, headers: Record<string, string>, opts: { connections: number; duration: number }): Promise<WrkResult> {
  const args = [
    '-t2',
    `-c${opts.connections}`,
    `-d${opts.duration}s`,
    '--latency',
    ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    url,
  ];
  return new Promise((resolve, reject) =>
    execFile('wrk', args, { encoding: 'utf8', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}\n${stderr}`));
      try {
        resolve(parseWrk(stdout));
      } catch (e) {
        reject(e);
      }
    }),
  );
}
