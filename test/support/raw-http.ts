/** Raw HTTP/1.1 over node:net, for requests no HTTP client would send (and slow clients). */
import net from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** ms from connecting until the server closed the connection. */
  closedAfterMs: number;
}

export function parseAnswer(raw: Buffer, closedAfterMs: number): RawAnswer {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end >= 0 ? text.slice(0, end) : text;
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: end >= 0 ? text.slice(end + 4) : '', closedAfterMs };
}

/**
 * Connect, write `chunks` (each after `gapMs`), and collect everything the server sends
 * until it closes the connection (or `maxMs` passes: then status is 0).
 */
export function rawRequest(port: number, chunks: (string | Buffer)[], opts: { gapMs?: number; maxMs?: number } = {}): Promise<RawAnswer> {
  const { gapMs = 0, maxMs = 5000 } = opts;
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      clearTimeout(guard);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(got), Date.now() - started));
    };
    const guard = setTimeout(() => {
      got.length = 0;
      finish();
    }, maxMs);
    socket.on('data', (d) => got.push(d));
    socket.on('error', () => {}); // a reset after the answer: what was read counts
    socket.on('close', finish);
    socket.on('connect', () => {
      let i = 0;
      const next = () => {
        if (i >= chunks.length || socket.destroyed) return;
        socket.write(chunks[i++]!, () => {
          timer = setTimeout(next, gapMs);
        });
      };
      next();
    });
  });
}
