/**
 * One keep-alive HTTP connection for the sequential measurements (creates,
 * single-request latency) and the answer checks: node:http directly, as its
 * per-request overhead is lower than fetch's and we time every request.
 */
import http from 'node:http';

export interface Response {
  status: number;
  body: string;
  /** Wall time from sending to the last byte, in ms. */
  ms: number;
}

export class Client {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly base: string) {}

  request(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Response> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const h: Record<string, string> = { ...headers, Accept: 'application/json' };
    if (payload !== undefined) {
      h['Content-Type'] = 'application/json';
      h['Content-Length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = http.request(new URL(path, this.base), { method, headers: h, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** GET that must answer 2xx with JSON. */
  async getJson<T>(path: string, headers: Record<string, string>): Promise<T> {
    const r = await this.request('GET', path, headers);
    if (r.status < 200 || r.status > 299) throw new Error(`GET ${path} answered ${r.status}: ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The q-quantile (0..1) of unsorted numbers, nearest-rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}
