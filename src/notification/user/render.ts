/**
 * Rendering the user messages from `templates/<event>.tmpl` with Nunjucks, whose
 * syntax is Jinja2's, so operators' customised Warre templates keep working: the
 * same file names, the same variables (`reservation`, `user`), datetimes that print
 * like Python's and have `strftime`, and `True`/`False`/`None`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import nunjucks from 'nunjucks';

export type UserEvent = 'create' | 'start' | 'before_end' | 'end';
export const USER_EVENTS: readonly UserEvent[] = ['create', 'start', 'before_end', 'end'];

/** Subject of every user message (Taynac and SMTP). */
export const MESSAGE_SUBJECT = 'Nectar Reservation System Notification';

/** A reservation as the templates see it: the database/API field names. */
export interface ReservationForMessage {
  id: string;
  user_id: string;
  project_id: string;
  lease_id: string | null;
  compute_flavor: string | null;
  status: string;
  status_reason?: string | null;
  start: Date;
  end: Date;
  instance_count: number;
  created_at?: Date | null;
  /** The flavor row (id, name, vcpu, memory_mb, …); Date fields print like Python's. */
  flavor: { id: string; name: string; [field: string]: unknown };
}

/** The reservation's owner from Keystone (email and full_name are optional attributes). */
export interface MessageUser {
  id: string;
  name?: string | null;
  email?: string | null;
  full_name?: string | null;
}

/** The packaged `templates/` at the package root (the same from src/ and dist/). */
export function defaultTemplateDir(): string {
  // this file is <root>/{src,dist}/notification/user/render.{ts,js}
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'templates');
}

const environments = new Map<string, nunjucks.Environment>();

function environment(templateDir: string): nunjucks.Environment {
  let env = environments.get(templateDir);
  if (!env) {
    // noCache: edits to a template apply to the next message, as in Warre (a new Jinja env per message).
    env = new nunjucks.Environment(new nunjucks.FileSystemLoader(templateDir, { noCache: true }), { autoescape: true });
    env.addGlobal('True', true);
    env.addGlobal('False', false);
    env.addGlobal('None', null);
    environments.set(templateDir, env);
  }
  return env;
}

/** Renders `<templateDir>/<event>.tmpl` (HTML, autoescaped) with `vars`. */
export function renderUserMessage(templateDir: string, event: UserEvent, vars: Record<string, unknown>): string {
  return environment(templateDir).render(`${event}.tmpl`, vars);
}

/** The template variables Warre's templates use: `reservation` (model fields) and `user`. */
export function messageVars(reservation: ReservationForMessage, user: MessageUser | null): Record<string, unknown> {
  const flavor: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(reservation.flavor)) flavor[k] = v instanceof Date ? new PyDateTime(v) : v;
  const hours = Math.ceil((reservation.end.getTime() - reservation.start.getTime()) / 3_600_000);
  return {
    reservation: {
      ...reservation,
      flavor,
      flavor_id: reservation.flavor.id,
      start: new PyDateTime(reservation.start),
      end: new PyDateTime(reservation.end),
      created_at: reservation.created_at ? new PyDateTime(reservation.created_at) : null,
      total_hours: hours,
    },
    user: user ?? { id: reservation.user_id, name: null, email: null, full_name: null },
  };
}

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * A naive UTC datetime that behaves in a template like Python's `datetime`: prints as
 * `2026-12-01 00:00:00`, and has `strftime`, `isoformat` and the usual fields.
 * Hand-written because templates written for Jinja call these Python methods.
 */
export class PyDateTime {
  constructor(private readonly d: Date) {}

  get year(): number {
    return this.d.getUTCFullYear();
  }
  get month(): number {
    return this.d.getUTCMonth() + 1;
  }
  get day(): number {
    return this.d.getUTCDate();
  }
  get hour(): number {
    return this.d.getUTCHours();
  }
  get minute(): number {
    return this.d.getUTCMinutes();
  }
  get second(): number {
    return this.d.getUTCSeconds();
  }

  toString(): string {
    return this.strftime('%Y-%m-%d %H:%M:%S');
  }

  isoformat(sep = 'T'): string {
    return this.strftime(`%Y-%m-%d${sep}%H:%M:%S`);
  }

  /** Python's strftime for a naive datetime (`%Z`/`%z` are empty, unknown codes are kept). */
  strftime(format: string): string {
    const d = this.d;
    const p2 = (n: number): string => String(n).padStart(2, '0');
    const weekday = (d.getUTCDay() + 6) % 7;
    const h12 = d.getUTCHours() % 12 === 0 ? 12 : d.getUTCHours() % 12;
    const yday =
      Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
    const codes: Record<string, string> = {
      Y: String(d.getUTCFullYear()).padStart(4, '0'),
      y: p2(d.getUTCFullYear() % 100),
      m: p2(d.getUTCMonth() + 1),
      d: p2(d.getUTCDate()),
      H: p2(d.getUTCHours()),
      I: p2(h12),
      M: p2(d.getUTCMinutes()),
      S: p2(d.getUTCSeconds()),
      f: String(d.getUTCMilliseconds() * 1000).padStart(6, '0'),
      p: d.getUTCHours() < 12 ? 'AM' : 'PM',
      a: DAYS[weekday]!.slice(0, 3),
      A: DAYS[weekday]!,
      b: MONTHS[d.getUTCMonth()]!.slice(0, 3),
      B: MONTHS[d.getUTCMonth()]!,
      j: String(yday).padStart(3, '0'),
      Z: '',
      z: '',
      '%': '%',
    };
    return format.replace(/%(.)/g, (all, c: string) => codes[c] ?? all);
  }
}
