/**
 * The oslo.messaging envelope, byte for byte (docs/interop.md#oslo-messaging-envelope and the
 * sections after it): the v2 envelope, notification and RPC-cast bodies, and parsing of what
 * other services publish. JSON is written as Python writes it (python-json.ts); contexts as
 * oslo.context writes them (request-context.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Options } from 'amqplib';
import { type DateStyle, nowMicros, pyJsonDumps, pyStrDatetime, renderDates } from './python-json.js';
import { rpcContext, sanitizeNotificationContext } from './request-context.js';

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
  const text = envelope ? pyJsonDumps({ 'oslo.version': '2.0', 'oslo.message': pyJsonDumps(inner) }) : pyJsonDumps(inner);
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
