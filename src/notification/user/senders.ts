/**
 * User messages (e-mails) about a reservation: `create`, `start`, `before_end`, `end`.
 * Drivers: `logging` (nothing is sent), `taynac` (Nectar's message service, as the
 * Python Warre), `smtp` (a mail server). A message that cannot be sent is retried a
 * few times, then logged; `send` never throws, so a mail problem never undoes or
 * blocks a reservation's state change.
 */
import { createRequire } from 'node:module';
import type Nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type { Logger } from 'pino';

import type { ServiceSession } from '../../drivers/service-session.js';
import { sendMessage, TaynacError, type TaynacOptions } from '../../drivers/taynac.js';
import { userMessages } from '../../metrics/registry.js';
import {
  defaultTemplateDir,
  MESSAGE_SUBJECT,
  type MessageUser,
  messageVars,
  type ReservationForMessage,
  renderUserMessage,
  type UserEvent,
} from './render.js';

export interface UserMessageSender {
  /** False when the driver does not use the user's Keystone record (the caller may pass null). */
  readonly needsUser: boolean;
  send(event: UserEvent, reservation: ReservationForMessage, user: MessageUser | null): Promise<void>;
  /** Releases connections (SMTP). */
  close(): Promise<void>;
}

export interface RetryOptions {
  /** Tries in all (default 3). */
  attempts?: number;
  /** Wait before the second try; doubles for each further one (default 1 s). */
  retryDelayMs?: number;
}

interface BaseOptions extends RetryOptions {
  logger: Logger;
  /** `[warre] template_dir`; default the packaged templates/. */
  templateDir?: string;
}

/** An error retrying cannot cure. */
class PermanentSendError extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
  }
}

abstract class BaseSender implements UserMessageSender {
  abstract readonly needsUser: boolean;
  protected readonly log: Logger;
  protected readonly templateDir: string;
  private readonly attempts: number;
  private readonly retryDelayMs: number;

  constructor(opts: BaseOptions) {
    this.log = opts.logger;
    this.templateDir = opts.templateDir ?? defaultTemplateDir();
    this.attempts = Math.max(1, opts.attempts ?? 3);
    this.retryDelayMs = opts.retryDelayMs ?? 1000;
  }

  async send(event: UserEvent, reservation: ReservationForMessage, user: MessageUser | null): Promise<void> {
    const ctx = { event, reservation_id: reservation.id };
    if (this.needsUser && !user?.email) {
      this.log.warn({ ...ctx, user_id: user?.id ?? reservation.user_id }, 'User has no email address; message not sent');
      userMessages.inc({ event, result: 'skipped' });
      return;
    }
    let body: string;
    try {
      body = renderUserMessage(this.templateDir, event, messageVars(reservation, user));
    } catch (err) {
      this.log.error({ ...ctx, err, template_dir: this.templateDir }, 'Cannot render the user message template');
      userMessages.inc({ event, result: 'failed' });
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deliver(event, reservation, user, body);
        userMessages.inc({ event, result: 'sent' });
        return;
      } catch (err) {
        const permanent = err instanceof PermanentSendError;
        const cause = permanent ? err.original : err;
        if (permanent || attempt >= this.attempts) {
          this.log.error({ ...ctx, err: cause, attempts: attempt }, 'Failed to send the user message; giving up');
          userMessages.inc({ event, result: 'failed' });
          return;
        }
        const delay = this.retryDelayMs * 2 ** (attempt - 1);
        this.log.warn({ ...ctx, err: cause, attempt, retry_in_ms: delay }, 'Failed to send the user message; will retry');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async close(): Promise<void> {}

  /** Sends one rendered message; throws {@link PermanentSendError} when retrying is pointless. */
  protected abstract deliver(event: UserEvent, reservation: ReservationForMessage, user: MessageUser | null, body: string): Promise<void>;
}

/**
 * Logs the message instead of sending it — the rendered text included, so that in the
 * all-in-one one can read what production would e-mail (docs/operations.md#logs). Needs no
 * mail service and no user record.
 */
export class LoggingSender extends BaseSender {
  readonly needsUser = false;

  protected async deliver(event: UserEvent, reservation: ReservationForMessage, user: MessageUser | null, body: string): Promise<void> {
    this.log.info(
      { event, reservation_id: reservation.id, recipient: user?.email ?? null, subject: MESSAGE_SUBJECT, body },
      'User message (logging notifier, not sent)',
    );
  }
}

export interface TaynacSenderOptions extends BaseOptions {
  /** The `[service_auth]` session. */
  session: ServiceSession;
  taynac?: TaynacOptions;
}

/** Sends through Taynac to the user's Keystone `email`. */
export class TaynacSender extends BaseSender {
  readonly needsUser = true;
  private readonly session: ServiceSession;
  private readonly taynac: TaynacOptions;

  constructor(opts: TaynacSenderOptions) {
    super(opts);
    this.session = opts.session;
    this.taynac = opts.taynac ?? {};
  }

  protected async deliver(event: UserEvent, reservation: ReservationForMessage, user: MessageUser | null, body: string): Promise<void> {
    const recipient = user!.email!;
    try {
      const { backendId } = await sendMessage(this.session, { subject: MESSAGE_SUBJECT, body, recipient }, this.taynac);
      this.log.info({ event, reservation_id: reservation.id, recipient, backend_id: backendId }, 'Created Taynac message');
    } catch (err) {
      // A refusal (bad address, policy) stays a refusal; 401/408/429 and 5xx may pass later.
      if (err instanceof TaynacError && err.status >= 400 && err.status < 500 && ![401, 408, 429].includes(err.status)) {
        throw new PermanentSendError(err);
      }
      throw err;
    }
  }
}

export interface SmtpOptions {
  host: string;
  /** Default: 465 when `secure`, else 587 (nodemailer's defaults). */
  port?: number;
  /** TLS from the first byte (SMTPS, usually port 465). */
  secure?: boolean;
  /** Insist on STARTTLS; without it STARTTLS is still used when the server offers it. */
  starttls?: boolean;
  user?: string | null;
  password?: string | null;
  /** The From address, e.g. `Nectar Reservations <reservations@example.org>`. */
  from: string;
  /** Connection and response timeouts (default 30 s). */
  timeoutMs?: number;
}

export interface SmtpSenderOptions extends BaseOptions {
  smtp: SmtpOptions;
}

/** Sends with an SMTP server to the user's Keystone `email`. */
export class SmtpSender extends BaseSender {
  readonly needsUser = true;
  private readonly transport: Transporter;
  private readonly from: string;

  constructor(opts: SmtpSenderOptions) {
    super(opts);
    const s = opts.smtp;
    const timeout = s.timeoutMs ?? 30_000;
    this.from = s.from;
    // Loaded by the processes that send mail only (2.6 MB of memory; BENCHMARKS.md, memory).
    const nodemailer = createRequire(import.meta.url)('nodemailer') as typeof Nodemailer;
    this.transport = nodemailer.createTransport({
      host: s.host,
      port: s.port,
      secure: s.secure ?? false,
      requireTLS: s.starttls ?? false,
      auth: s.user ? { user: s.user, pass: s.password ?? '' } : undefined,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  }

  protected async deliver(event: UserEvent, reservation: ReservationForMessage, user: MessageUser | null, body: string): Promise<void> {
    const to = user!.full_name ? { name: user!.full_name, address: user!.email! } : user!.email!;
    try {
      const info = await this.transport.sendMail({ from: this.from, to, subject: MESSAGE_SUBJECT, html: body });
      this.log.info(
        { event, reservation_id: reservation.id, recipient: user!.email, message_id: info.messageId },
        'Sent user message by SMTP',
      );
    } catch (err) {
      // 5xx replies (unknown mailbox, rejected sender) and an unusable envelope will not change.
      const e = err as { responseCode?: number; code?: string };
      if ((e.responseCode !== undefined && e.responseCode >= 500) || e.code === 'EENVELOPE') throw new PermanentSendError(err);
      throw err;
    }
  }

  override async close(): Promise<void> {
    this.transport.close();
  }
}

export type UserMessageDriver = 'logging' | 'taynac' | 'smtp';

export interface UserMessageSenderOptions extends BaseOptions {
  /** Needed by `taynac`: the `[service_auth]` session. */
  session?: ServiceSession | null;
  taynac?: TaynacOptions;
  /** Needed by `smtp`. */
  smtp?: SmtpOptions | null;
}

/** The driver named by `[warre] user_notifier`. */
export function createUserMessageSender(kind: UserMessageDriver, options: UserMessageSenderOptions): UserMessageSender {
  switch (kind) {
    case 'logging':
      return new LoggingSender(options);
    case 'taynac':
      if (!options.session) throw new Error('The taynac user notifier needs Keystone credentials ([service_auth])');
      return new TaynacSender({ ...options, session: options.session });
    case 'smtp':
      if (!options.smtp?.host || !options.smtp.from) throw new Error('The smtp user notifier needs an SMTP host and a from address');
      return new SmtpSender({ ...options, smtp: options.smtp });
    default:
      throw new Error(`Unknown user notifier ${JSON.stringify(kind)}; choose logging, taynac or smtp`);
  }
}
