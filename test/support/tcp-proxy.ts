/**
 * A TCP proxy the test controls, in front of a shared database server (which tests must
 * never stop): `pass` forwards, `stall` stops forwarding in both directions without closing
 * anything (a silent network), `refuse` resets every connection and refuses new ones (a
 * database that went away). Back to `pass`, new connections are forwarded again.
 */
import net from 'node:net';

export type ProxyMode = 'pass' | 'stall' | 'refuse';

export class TcpProxy {
  private server: net.Server | null = null;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket | null; stalled: boolean }>();
  private mode: ProxyMode = 'pass';
  port = 0;
  /** Connections accepted so far. */
  accepted = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    const server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    const pair = { client, upstream: null as net.Socket | null, stalled: this.mode === 'stall' };
    this.pairs.add(pair);
    client.on('error', () => {});
    const drop = () => {
      client.destroy();
      pair.upstream?.destroy();
      this.pairs.delete(pair);
    };
    client.on('close', drop);
    if (pair.stalled) return; // accepted, never answered
    const upstream = net.connect(this.targetPort, this.targetHost);
    pair.upstream = upstream;
    upstream.on('error', () => {});
    upstream.on('close', drop);
    client.on('data', (d) => {
      if (!pair.stalled) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!pair.stalled) client.write(d);
    });
  }

  /** Stop forwarding: every byte from now on is swallowed, nothing is closed. */
  stall(): void {
    this.mode = 'stall';
    for (const p of this.pairs) p.stalled = true;
  }

  /** Reset every connection and refuse new ones (the listening port is closed). */
  async refuse(): Promise<void> {
    this.mode = 'refuse';
    for (const p of this.pairs) {
      p.client.resetAndDestroy();
      p.upstream?.destroy();
    }
    this.pairs.clear();
    await this.closeServer();
  }

  /** Forward again: connections that were stalled are closed (their streams are out of step). */
  async pass(): Promise<void> {
    const was = this.mode;
    this.mode = 'pass';
    for (const p of this.pairs) {
      if (p.stalled) {
        p.client.destroy();
        p.upstream?.destroy();
        this.pairs.delete(p);
      }
    }
    if (was === 'refuse') await this.start(this.port);
  }

  async close(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream?.destroy();
    }
    this.pairs.clear();
    await this.closeServer();
  }

  private async closeServer(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
