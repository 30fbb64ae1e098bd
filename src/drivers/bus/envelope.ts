/**
 * oslo.messaging messages, byte for byte (docs/interop.md#oslo-messaging-envelope and the sections after it): JSON serialised like
 * Python's `json.dumps`, the v2 envelope, notification and RPC-cast bodies, request contexts
 * as oslo.context's `to_dict()`, and parsing of what other services publish.
 */
import { randomUUID } from 'node:crypto';
import type { Options } from 'amqplib';
import type { RequestContext } from '../../auth/context.js';

/** AMQP properties every oslo.messaging producer sets (docs/interop.md#oslo-messaging-envelope); nothing else. */
export const PUBLISH_PROPERTIES: Readonly<Options.Publish> = Object.freeze({
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  deliveryMode: 2,
  priority: 0,
  headers: {},
});

/** A body (or part of one) that is not an oslo.messaging message. */
export class BusDecodeError extends Error {
  constructor(
    message: string,
    /** The message id, when it could be read from the broken body. */
    readonly messageId: string | null = null,
  ) {
    super(message);
    this.name = 'BusDecodeError';
  }
}

// ---------------------------------------------------------------------------------------------
// JSON as Python's json.dumps writes it

/**
 * `json.dumps(value)` with Python's defaults: `", "` / `": "` separators, every character outside
 * printable ASCII escaped as `\uXXXX` (lower-case hex, surrogate pairs), `undefined` members
 * skipped. `Date`s must be rendered first ({@link renderDates}); numbers print as JavaScript
 * does (integers match Python ints; a Python float `1.0` would print `1`).
 */
export function pyJsonDumps(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return pyJsonString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return pyNumber(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : pyJsonDumps(v))).join(', ')}]`;
      }
      if (value instanceof Date) throw new TypeError('Object of type datetime is not JSON serializable (render dates first)');
      const toJSON = (value as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === 'function') return pyJsonDumps(toJSON.call(value));
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined || typeof v === 'function') continue;
        parts.push(`${pyJsonString(k)}: ${pyJsonDumps(v)}`);
      }
      return `{${parts.join(', ')}}`;
    }
    default:
      throw new TypeError(`Object of type ${typeof value} is not JSON serializable`);
  }
}

function pyJsonString(s: string): string {
  // JSON.stringify already escapes quotes, backslashes and control characters the way Python
  // does; Python (ensure_ascii) also escapes DEL and everything non-ASCII.
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Integers (below 1e21, where JSON text has no exponent) print as Python ints; other numbers
 * as Python's float `repr`: shortest round-trip digits, scientific when the exponent is < -4
 * or >= 16, a `.0` on integral values, at least two exponent digits.
 */
function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const [mantissa, expText] = Math.abs(n).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  const sign = n < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const point = exp + 1;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point < digits.length) return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
}

// ---------------------------------------------------------------------------------------------
// Datetimes (naive UTC, as the Python services use them)

/** How datetimes inside a payload are written: `messagingv2` → strtime, `messaging` → isoformat. */
export type DateStyle = 'strtime' | 'isoformat';

/** Microseconds since the epoch, now (sub-millisecond digits from the monotonic clock). */
export function nowMicros(): number {
  return Date.now() * 1000 + Number((process.hrtime.bigint() / 1000n) % 1000n);
}

function parts(us: number): { date: string; time: string; micro: number } {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return { date: iso.slice(0, 10), time: iso.slice(11, 19), micro: us - Math.floor(us / 1e6) * 1e6 };
}

/** Python `str(datetime)`: `YYYY-MM-DD HH:MM:SS.ffffff`, the fraction omitted when it is 0. */
export function pyStrDatetime(t: Date | number): string {
  const p = parts(typeof t === 'number' ? t : t.getTime() * 1000);
  return `${p.date} ${p.time}${p.micro ? `.${String(p.micro).padStart(6, '0')}` : ''}`;
}

/** oslo `timeutils.strtime` / `jsonutils` rendering: `YYYY-MM-DDTHH:MM:SS.ffffff`, always 6 digits. */
export function pyStrtime(t: Date | number): string {
  const p = parts(typeof t === 'number' ? t : t.getTime() * 1000);
  return `${p.date}T${p.time}.${String(p.micro).padStart(6, '0')}`;
}

/** Python `datetime.isoformat()` of a naive datetime: the fraction only when non-zero. */
export function pyIsoformat(t: Date | number): string {
  const p = parts(typeof t === 'number' ? t : t.getTime() * 1000);
  return `${p.date}T${p.time}${p.micro ? `.${String(p.micro).padStart(6, '0')}` : ''}`;
}

/** A deep copy of `value` with every `Date` rendered in the given style. */
export function renderDates(value: unknown, style: DateStyle): unknown {
  if (value instanceof Date) return style === 'strtime' ? pyStrtime(value) : pyIsoformat(value);
  if (Array.isArray(value)) return value.map((v) => renderDates(v, style));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderDates(v, style);
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Contexts

/** oslo.context's `RequestContext` attributes that the Warre context does not carry. */
export interface OsloContextExtras {
  isAdmin?: boolean;
  readOnly?: boolean;
  showDeleted?: boolean;
  globalRequestId?: string | null;
  resourceUuid?: string | null;
}

/** `RequestContext.to_dict()` of oslo.context 5, in its key order (what RPC casts carry). */
export function requestContextDict(ctx: RequestContext, extras: OsloContextExtras = {}): Record<string, unknown> {
  const userIdentity = [ctx.userId, ctx.projectId, ctx.domainId, ctx.userDomainId, ctx.projectDomainId]
    .map((v) => v || '-')
    .join(' ');
  return {
    user: ctx.userId,
    project_id: ctx.projectId,
    system_scope: ctx.systemScope,
    project: ctx.projectId,
    domain: ctx.domainId,
    user_domain: ctx.userDomainId,
    project_domain: ctx.projectDomainId,
    is_admin: extras.isAdmin ?? false,
    read_only: extras.readOnly ?? false,
    show_deleted: extras.showDeleted ?? false,
    auth_token: ctx.authToken,
    request_id: ctx.requestId,
    global_request_id: extras.globalRequestId ?? null,
    resource_uuid: extras.resourceUuid ?? null,
    roles: ctx.roles,
    user_identity: userIdentity,
    is_admin_project: ctx.isAdminProject,
  };
}

/** Context keys oslo.messaging keeps in notifications (`_sanitize_context`). */
export const NOTIFICATION_SAFE_CONTEXT_KEYS: readonly string[] = [
  'user_id', 'project_id', 'domain_id', 'user_domain_id', 'project_domain_id', 'is_admin',
  'request_id', 'roles', 'user_name', 'project_name', 'domain_name', 'user_domain_name',
  'project_domain_name', 'service_user_id', 'service_user_domain_id', 'service_user_domain_name',
  'service_project_id', 'service_project_name', 'service_project_domain_id',
  'service_project_domain_name', 'service_roles', 'global_request_id', 'system_scope', 'user',
  'domain', 'user_domain', 'project_domain',
];

/** What a notification may be sent with: a Warre request context or a plain dict (oslo allows both). */
export type MessageContext = RequestContext | Record<string, unknown> | null | undefined;

export function isRequestContext(ctx: unknown): ctx is RequestContext {
  return (
    ctx !== null &&
    typeof ctx === 'object' &&
    typeof (ctx as RequestContext).requestId === 'string' &&
    Array.isArray((ctx as RequestContext).roles) &&
    'authToken' in ctx
  );
}

/**
 * The context as a notification carries it (docs/interop.md#notifications). A plain dict keeps only the safe keys
 * (`{"client_timeout": null}` → `{}`); a request context goes through oslo's
 * to_dict → filter → from_dict → to_dict, so it keeps every to_dict key but loses its token,
 * `read_only`/`show_deleted`/`resource_uuid` and `is_admin_project` (back to their defaults).
 */
export function sanitizeNotificationContext(ctx: MessageContext, extras: OsloContextExtras = {}): Record<string, unknown> {
  if (!ctx) return {};
  if (isRequestContext(ctx)) {
    return requestContextDict(
      { ...ctx, authToken: null, isAdminProject: true },
      { isAdmin: extras.isAdmin ?? false, globalRequestId: extras.globalRequestId ?? null },
    );
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ctx)) if (NOTIFICATION_SAFE_CONTEXT_KEYS.includes(k)) out[k] = v;
  return out;
}

/** The context of an RPC cast: NOT sanitised (the caller's token travels, docs/interop.md#rpc-casts). */
export function rpcContext(ctx: MessageContext, extras: OsloContextExtras = {}): Record<string, unknown> {
  if (!ctx) return {};
  return isRequestContext(ctx) ? requestContextDict(ctx, extras) : { ...ctx };
}

// ---------------------------------------------------------------------------------------------
// Building messages

export interface NotificationInput {
  publisherId: string | null;
  eventType: string;
  /** Any case; written upper-case (`INFO`, `SAMPLE`, …). */
  priority: string;
  /** Any JSON value; `Date`s are rendered in `dateStyle`. */
  payload: unknown;
  /** Already-sanitised context dict ({@link sanitizeNotificationContext}). */
  context?: Record<string, unknown>;
  /** Default: a new UUID4. */
  messageId?: string;
  /** Default: a new 32-hex id. */
  uniqueId?: string;
  /** Epoch microseconds or a Date (default: now). */
  timestamp?: number | Date;
}

/** The inner message of a notification, in oslo's key order. */
export function notificationMessage(input: NotificationInput, dateStyle: DateStyle): Record<string, unknown> {
  const ts = input.timestamp ?? nowMicros();
  const msg: Record<string, unknown> = {
    message_id: input.messageId ?? randomUUID(),
    publisher_id: input.publisherId,
    event_type: input.eventType,
    priority: input.priority.toUpperCase(),
    payload: renderDates(input.payload, dateStyle),
    timestamp: pyStrDatetime(ts),
    _unique_id: input.uniqueId ?? newUniqueId(),
  };
  return packContext(msg, input.context);
}

export interface RpcCastInput {
  method: string;
  args: Record<string, unknown>;
  /** Target version, e.g. `1.0`; omitted when null. */
  version?: string | null;
  namespace?: string | null;
  /** Context dict ({@link rpcContext}). */
  context?: Record<string, unknown>;
  uniqueId?: string;
}

/** The inner message of an RPC cast (docs/interop.md#rpc-casts), in oslo's key order. */
export function rpcCastMessage(input: RpcCastInput): Record<string, unknown> {
  const msg: Record<string, unknown> = { method: input.method, args: renderDates(input.args, 'strtime') };
  if (input.namespace != null) msg.namespace = input.namespace;
  if (input.version != null) msg.version = input.version;
  msg._unique_id = input.uniqueId ?? newUniqueId();
  return packContext(msg, input.context);
}

/** A new `_unique_id`: uuid4 hex. */
export function newUniqueId(): string {
  return randomUUID().replace(/-/g, '');
}

function packContext(msg: Record<string, unknown>, context: Record<string, unknown> | undefined): Record<string, unknown> {
  for (const [k, v] of Object.entries(context ?? {})) msg[`_context_${k}`] = v;
  return msg;
}

/**
 * The AMQP body: `{"oslo.version": "2.0", "oslo.message": "<inner JSON>"}` (v2) or the inner
 * message itself (v1, the `messaging` notification driver).
 */
export function encodeBody(inner: Record<string, unknown>, envelope: boolean): Buffer {
  const text = envelope
    ? pyJsonDumps({ 'oslo.version': '2.0', 'oslo.message': pyJsonDumps(inner) })
    : pyJsonDumps(inner);
  return Buffer.from(text, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Parsing

export interface DecodedBody {
  message: Record<string, unknown>;
  /** Whether the body was a v2 envelope. */
  enveloped: boolean;
}

/** Decode a body of either shape (docs/interop.md#oslo-messaging-envelope). Throws {@link BusDecodeError}. */
export function decodeBody(content: Buffer): DecodedBody {
  let outer: unknown;
  try {
    outer = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(content));
  } catch (err) {
    throw new BusDecodeError(`Body is not UTF-8 JSON: ${(err as Error).message}`, sniffMessageId(content));
  }
  if (outer === null || typeof outer !== 'object' || Array.isArray(outer)) {
    throw new BusDecodeError('Body is not a JSON object', sniffMessageId(content));
  }
  const o = outer as Record<string, unknown>;
  if (!Object.hasOwn(o, 'oslo.version')) return { message: o, enveloped: false };
  const version = String(o['oslo.version']);
  if (!/^2(\.\d+)?$/.test(version)) {
    throw new BusDecodeError(`Unsupported oslo.messaging envelope version ${version}`, sniffMessageId(content));
  }
  const text = o['oslo.message'];
  if (typeof text !== 'string') throw new BusDecodeError('Envelope without an "oslo.message" string', sniffMessageId(content));
  let inner: unknown;
  try {
    inner = JSON.parse(text);
  } catch (err) {
    throw new BusDecodeError(`"oslo.message" is not JSON: ${(err as Error).message}`, sniffMessageId(content));
  }
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) {
    throw new BusDecodeError('"oslo.message" is not a JSON object', sniffMessageId(content));
  }
  return { message: inner as Record<string, unknown>, enveloped: true };
}

/** Best effort: the message id of a body that failed to decode, for the log line. */
function sniffMessageId(content: Buffer): string | null {
  const m = /(?:message_id|_unique_id)\\*"\s*:\s*\\*"([0-9A-Za-z-]{8,64})/.exec(content.toString('utf8'));
  return m?.[1] ?? null;
}

/** Split `_context_*` keys out of a message (oslo's `unpack_context`). */
function unpackContext(message: Record<string, unknown>): { context: Record<string, unknown>; rest: Record<string, unknown> } {
  const context: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(message)) {
    if (k.startsWith('_context_')) context[k.slice('_context_'.length)] = v;
    else rest[k] = v;
  }
  return { context, rest };
}

export interface ParsedNotification {
  messageId: string | null;
  publisherId: string | null;
  eventType: string | null;
  /** Lower case (`sample`, `info`, …), as the listener's endpoint methods are named. */
  priority: string | null;
  payload: unknown;
  /** As sent: `YYYY-MM-DD HH:MM:SS.ffffff`. */
  timestamp: string | null;
  uniqueId: string | null;
  /** `_context_*` keys without their prefix. */
  context: Record<string, unknown>;
  /** What a Python endpoint receives as `metadata`. */
  metadata: { message_id: string | null; timestamp: string | null };
  enveloped: boolean;
  /** The whole inner message. */
  message: Record<string, unknown>;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : v == null ? null : String(v));

/** Parse a notification body (either shape). Throws {@link BusDecodeError}. */
export function parseNotification(content: Buffer): ParsedNotification {
  const { message, enveloped } = decodeBody(content);
  const { context } = unpackContext(message);
  const messageId = str(message.message_id);
  const timestamp = str(message.timestamp);
  return {
    messageId,
    publisherId: str(message.publisher_id),
    eventType: str(message.event_type),
    priority: str(message.priority)?.toLowerCase() ?? null,
    payload: message.payload,
    timestamp,
    uniqueId: str(message._unique_id),
    context,
    metadata: { message_id: messageId, timestamp },
    enveloped,
    message,
  };
}

export interface ParsedRpcMessage {
  method: string;
  args: Record<string, unknown>;
  version: string | null;
  namespace: string | null;
  uniqueId: string | null;
  /** Set when the sender waits for a reply (an RPC *call*). */
  msgId: string | null;
  replyQ: string | null;
  context: Record<string, unknown>;
}

/** Parse an RPC message body. Throws {@link BusDecodeError}. */
export function parseRpcMessage(content: Buffer): ParsedRpcMessage {
  const { message } = decodeBody(content);
  const { context, rest } = unpackContext(message);
  if (typeof rest.method !== 'string') throw new BusDecodeError('RPC message without a "method"', str(rest._unique_id));
  const args = rest.args ?? {};
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new BusDecodeError('RPC message "args" is not an object', str(rest._unique_id));
  }
  return {
    method: rest.method,
    args: args as Record<string, unknown>,
    version: str(rest.version),
    namespace: str(rest.namespace),
    uniqueId: str(rest._unique_id),
    msgId: str(rest._msg_id),
    replyQ: str(rest._reply_q),
    context,
  };
}

// ---------------------------------------------------------------------------------------------
// Ceilometer events (docs/interop.md#lease-events)

export interface CeilometerEvent {
  /** The real event type, e.g. `lease.event.start_lease`. */
  eventType: string | null;
  /** The original (Blazar) notification's message id. */
  messageId: string | null;
  generated: string | null;
  /** Traits by name (a later trait of the same name wins); look up by name, never position. */
  traits: Record<string, unknown>;
}

/**
 * The event inside a Ceilometer `event` notification: `payload[0]`, traits as `{name: value}`.
 * Returns null when the payload is not shaped like one.
 */
export function ceilometerEvent(n: Pick<ParsedNotification, 'payload'>): CeilometerEvent | null {
  if (!Array.isArray(n.payload) || n.payload.length === 0) return null;
  const ev = n.payload[0] as Record<string, unknown> | null;
  if (ev === null || typeof ev !== 'object' || !Array.isArray(ev.traits)) return null;
  const traits: Record<string, unknown> = {};
  for (const t of ev.traits) {
    if (Array.isArray(t) && t.length >= 3 && typeof t[0] === 'string') traits[t[0]] = t[2];
  }
  return { eventType: str(ev.event_type), messageId: str(ev.message_id), generated: str(ev.generated), traits };
}

// ---------------------------------------------------------------------------------------------
// Warre's notification payload (docs/api.md#notification-payload, `format_reservation`)

export interface FlavorForPayload {
  id: string;
  name: string;
  vcpu: number;
  memory_mb: number;
  disk_gb: number;
  ephemeral_gb: number;
  active: boolean;
  category: string | null;
  availability_zone: string | null;
  start: Date | null;
  end: Date | null;
}

export interface ReservationForPayload {
  id: string;
  flavor: FlavorForPayload;
  user_id: string;
  project_id: string;
  lease_id: string | null;
  start: Date;
  end: Date;
  instance_count: number;
}

/** `format_reservation()`: exactly its keys, in its order; dates stay `Date` (rendered per driver). */
export function formatReservation(r: ReservationForPayload): Record<string, unknown> {
  const f = r.flavor;
  return {
    id: r.id,
    flavor: {
      id: f.id,
      name: f.name,
      vcpu: f.vcpu,
      memory_mb: f.memory_mb,
      disk_gb: f.disk_gb,
      ephemeral_gb: f.ephemeral_gb,
      active: f.active,
      category: f.category,
      availability_zone: f.availability_zone,
      start: f.start,
      end: f.end,
    },
    user_id: r.user_id,
    project_id: r.project_id,
    lease_id: r.lease_id,
    start: r.start,
    end: r.end,
    instance_count: r.instance_count,
  };
}

/** The reservation payload as a driver sends it: `messagingv2` → strtime dates, `messaging` → isoformat. */
export function renderReservationPayload(r: ReservationForPayload, driver: 'messagingv2' | 'messaging'): Record<string, unknown> {
  return renderDates(formatReservation(r), driver === 'messagingv2' ? 'strtime' : 'isoformat') as Record<string, unknown>;
}
