/**
 * `[worker] metrics_port`: `GET /metrics` of warre-worker and warre-notification
 * (docs/metrics.md), on a small HTTP server of its own. With `[worker] workers` > 1 every
 * process listens on the port (node:cluster shares it) and the one a scrape reaches answers for
 * all of them (src/metrics/cluster.ts). Readers are limited to `[api] metrics_allowed_networks`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../domain/logger.js';
import { METRICS_FORBIDDEN, metricsAccess } from './access.js';
import { METRICS_CONTENT_TYPE, prepareProcessMetrics, processMetrics } from './cluster.js';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(head ? undefined : text);
}

export async function startMetricsServer(opts: {
  port: number;
  host?: string;
  allowedNetworks: readonly string[];
  log: Logger;
}): Promise<MetricsServer> {
  const allowed = metricsAccess(opts.allowedNetworks);
  prepareProcessMetrics();
  const server = http.createServer((req, res) => {
    const head = req.method === 'HEAD';
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
    if (path !== '/metrics') {
      sendJson(res, 404, { error_message: `The resource could not be found: ${req.method} ${path || '/'}` }, head);
      return;
    }
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      sendJson(res, 405, { error_message: 'Method not allowed: use GET' }, false);
      return;
    }
    if (!allowed(req.socket.remoteAddress)) {
      sendJson(res, 403, METRICS_FORBIDDEN, head);
      return;
    }
    processMetrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
        res.end(head ? undefined : text);
      },
      (err: unknown) => {
        opts.log.error({ err }, 'cannot collect the metrics');
        sendJson(res, 503, { error_message: 'The metrics could not be collected, please try again later' }, head);
      },
    );
  });
  // Requests are tiny and answered at once: anything slow is a stuck client.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.port, ...(opts.host ? { host: opts.host } : {}) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  opts.log.info({ port }, `serving metrics on port ${port}`);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
