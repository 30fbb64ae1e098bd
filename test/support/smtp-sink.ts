/**
 * An SMTP server on 127.0.0.1 that keeps every message it receives (smtp-server).
 * STARTTLS is not offered; AUTH is accepted without TLS when credentials are set.
 */
import type { AddressInfo } from 'node:net';

import { SMTPServer } from 'smtp-server';

export interface SunkMessage {
  from: string | null;
  to: string[];
  /** The raw RFC 5322 message. */
  raw: string;
  /** Authenticated user, if any. */
  user: string | null;
}

export class SmtpSink {
  readonly messages: SunkMessage[] = [];
  /** Messages offered (DATA commands), accepted or not. */
  offered = 0;
  /** Reply to the next `n` DATA commands with this code (e.g. 451 temporary, 550 permanent). */
  private rejects: number[] = [];
  private server: SMTPServer | null = null;
  port = 0;

  constructor(private readonly auth: { user: string; password: string } | null = null) {}

  async start(): Promise<number> {
    const server = new SMTPServer({
      disabledCommands: this.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      allowInsecureAuth: true,
      authOptional: !this.auth,
      logger: false,
      onAuth: (auth, _session, cb) => {
        if (this.auth && auth.username === this.auth.user && auth.password === this.auth.password) cb(null, { user: auth.username });
        else cb(new Error('Invalid username or password'));
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.offered += 1;
          const code = this.rejects.shift();
          if (code !== undefined) {
            const err = new Error(code >= 500 ? 'Mailbox unavailable' : 'Try again later') as Error & { responseCode: number };
            err.responseCode = code;
            cb(err);
            return;
          }
          const from = session.envelope.mailFrom;
          this.messages.push({
            from: from ? from.address : null,
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
            user: typeof session.user === 'string' ? session.user : null,
          });
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.server.address() as AddressInfo).port;
    return this.port;
  }

  rejectNext(n: number, code: number): void {
    for (let i = 0; i < n; i++) this.rejects.push(code);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
