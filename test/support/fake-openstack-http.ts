/**
 * What the fake OpenStack services (Blazar, Nova, Taynac) share: a node:http server
 * on 127.0.0.1 that records every request, answers 401 without a token (as
 * keystonemiddleware does), and can be told to fail or hang.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path with the query string, as sent. */
  path: string;
  /** Lower-cased header names. */
  headers: http.IncomingHttpHeaders;
  /** Header names as sent, alternating with values. */
  rawHeaders: string[];
  bodyText: string;
  /** The body parsed as JSON; undefined when empty or not JSON. */
  body: unknown;
}

export interface FakeResponse {
  status: number;
  /** Serialised as JSON unless a string; omitted when undefined. */
  body?: unknown;
  headers?: Record<string, string>;
}

const UNAUTHORIZED = { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } };

export abstract class FakeOpenStackService {
  readonly requests: RecordedRequest[] = [];
  /** When true, requests are read but never answered (to test timeouts). */
  hang = false;
  /** Which tokens are valid (default: any non-empty one). */
  acceptToken: (token: string) => boolean = (t) => t.length > 0;
  /** The fake's idea of now (ms since the epoch). */
  clock: () => number = () => Date.now();
  /** Answers wait this long (a slow service). */
  delayMs = 0;
  /** Requests being answered now, and the most at once since the last reset. */
  inFlight = 0;
  maxInFlight = 0;

  private server: http.Server | null = null;
  private failQueue: { status: number; message?: string }[] = [];
  private failWindow: { until: number; status: number; message?: string } | null = null;
  private root = '';

  /** Starts listening on a free port; resolves with the root URL (`http://127.0.0.1:<port>`). */
  async start(): Promise<string> {
    const server = http.createServer((req, res) => this.onRequest(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.root;
  }

  get rootUrl(): string {
    return this.root;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next `n` requests are answered with `status` (the service's error shape). */
  failNext(n: number, status: number, message?: string): void {
    for (let i = 0; i < n; i++) this.failQueue.push({ status, message });
  }

  /** Every request in the next `ms` milliseconds is answered with `status`. */
  failFor(ms: number, status: number, message?: string): void {
    this.failWindow = { until: Date.now() + ms, status, message };
  }

  /** Clears recorded requests and the knobs (failures, hang, token check). */
  reset(): void {
    this.requests.length = 0;
    this.failQueue = [];
    this.failWindow = null;
    this.hang = false;
    this.acceptToken = (t) => t.length > 0;
    this.delayMs = 0;
    this.maxInFlight = this.inFlight;
  }

  /** The recorded requests with this method. */
  requestsFor(method: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method);
  }

  /** The service's answer to a recorded, authenticated request. */
  protected abstract handle(req: RecordedRequest): FakeResponse;

  /** The service's error body for an injected failure. */
  protected abstract errorBody(status: number, message: string): unknown;

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bodyText = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = bodyText ? JSON.parse(bodyText) : undefined;
      } catch {
        body = undefined;
      }
      const rec: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        bodyText,
        body,
      };
      this.requests.push(rec);
      if (this.hang) return;
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const reply = () => {
        this.inFlight--;
        this.send(res, this.answer(rec));
      };
      if (this.delayMs > 0) setTimeout(reply, this.delayMs);
      else reply();
    });
  }

  private answer(rec: RecordedRequest): FakeResponse {
    const token = rec.headers['x-auth-token'];
    if (typeof token !== 'string' || !this.acceptToken(token)) {
      return { status: 401, body: UNAUTHORIZED, headers: { 'WWW-Authenticate': 'Keystone uri="http://127.0.0.1:5001/v3"' } };
    }
    const injected = this.failQueue.shift() ?? (this.failWindow && Date.now() < this.failWindow.until ? this.failWindow : null);
    if (injected) {
      return {
        status: injected.status,
        body: this.errorBody(injected.status, injected.message ?? http.STATUS_CODES[injected.status] ?? 'Error'),
      };
    }
    try {
      return this.handle(rec);
    } catch (e) {
      return { status: 500, body: this.errorBody(500, `fake service failed: ${e instanceof Error ? e.message : String(e)}`) };
    }
  }

  private send(res: http.ServerResponse, r: FakeResponse): void {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', ...r.headers };
    const text = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    res.writeHead(r.status, headers);
    res.end(text);
  }
}
