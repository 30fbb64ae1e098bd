/**
 * Taynac, Nectar's message service (it opens a help-desk ticket that e-mails the
 * user). One call, as python-taynacclient sends it (docs/interop.md#taynac).
 */
import { parseJson, serviceRequest } from './service-request.js';
import type { ServiceSession } from './service-session.js';

export interface TaynacOptions {
  /** Catalog interface of `message` (default `public`). */
  interface?: string | null;
  region?: string | null;
  /** Default 30 s. */
  timeoutMs?: number;
}

export interface TaynacMessage {
  subject: string;
  /** HTML. */
  body: string;
  recipient: string;
}

/** Taynac refused the message or failed. */
export class TaynacError extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(`Taynac answered ${status}: ${detail}`);
    this.name = 'TaynacError';
  }
}

/** `POST {message}/v1/message/`; resolves with the help-desk ticket id Taynac returns. */
export async function sendMessage(session: ServiceSession, msg: TaynacMessage, opts: TaynacOptions = {}): Promise<{ backendId: string }> {
  const res = await serviceRequest(session, {
    serviceType: 'message',
    interface: opts.interface ?? 'public',
    region: opts.region ?? null,
    method: 'POST',
    path: '/v1/message/',
    headers: { Accept: '*/*', 'User-Agent': 'python-taynacclient' },
    // cc is always sent (empty); tags and backend_id are not (Warre gives neither).
    json: { subject: msg.subject, body: msg.body, recipient: msg.recipient, cc: [] },
    timeoutMs: opts.timeoutMs ?? 30_000,
  });
  const body = parseJson(res.text) as Record<string, unknown> | null;
  if (res.status >= 400) {
    // Taynac's errors: {"message": "<text>"} or, for validation, {"message": {field: [errors]}}.
    const detail = body?.['message'];
    throw new TaynacError(res.status, detail === undefined ? res.text : typeof detail === 'string' ? detail : JSON.stringify(detail));
  }
  const id = body?.['backend_id'];
  return { backendId: id === undefined || id === null ? '' : String(id) };
}
