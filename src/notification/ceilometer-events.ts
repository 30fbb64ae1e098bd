/** Lease events as Ceilometer republishes Blazar's notifications (docs/interop.md#lease-events). */
import type { ParsedNotification } from '../drivers/bus/envelope.js';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : v == null ? null : String(v));

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
