/**
 * The booking form: pre-filled from a timeline stretch or an offer. Every
 * change runs the dry run (`POST /v1/reservations/?dry_run=true`), which shows
 * "Eligible" or the refusal text of a real create; "Confirm booking" then
 * creates the reservation and opens it in My reservations.
 */
import { useEffect, useState } from 'preact/hooks';
import { type BookableFlavor, call, type Reservation } from '../api.js';
import { navigate } from '../router.js';
import { formatLocal, formatUtc, fromInput, hoursBetween, toApi, toInput } from '../time.js';
import { Dialog, ErrorText, errorOf, Field, fieldErrors } from './ui.js';

export interface BookingDraft {
  flavor: BookableFlavor;
  start: number;
  end: number;
  instances: number;
  /** Free slots the stretch had (the Instances maximum); null: the flavor's slots. */
  maxInstances?: number | null;
}

type Check = { state: 'idle' } | { state: 'checking' } | { state: 'ok'; r: Reservation } | { state: 'refused'; error: unknown };

export function BookingDialog(props: { draft: BookingDraft; onClose: () => void }) {
  const { flavor } = props.draft;
  const [start, setStart] = useState(toInput(props.draft.start));
  const [end, setEnd] = useState(toInput(props.draft.end));
  const [count, setCount] = useState(String(props.draft.instances));
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  const [creating, setCreating] = useState(false);
  const [createError, setCreateError] = useState<unknown>(null);

  const body = () => {
    const s = fromInput(start);
    const e = fromInput(end);
    if (Number.isNaN(s) || Number.isNaN(e)) return null;
    return { flavor_id: flavor.id, start: toApi(s), end: toApi(e), instance_count: Number(count) };
  };

  useEffect(() => {
    const b = body();
    if (!b || !Number.isInteger(b.instance_count) || b.instance_count < 1) {
      setCheck({ state: 'refused', error: new Error('Give a start, an end and a number of instances.') });
      return;
    }
    const ctl = new AbortController();
    setCheck({ state: 'checking' });
    const timer = setTimeout(() => {
      call<Reservation>('POST', '/v1/reservations/?dry_run=true', { body: b, signal: ctl.signal })
        .then((r) => setCheck({ state: 'ok', r }))
        .catch((error) => {
          if ((error as Error).name !== 'AbortError') setCheck({ state: 'refused', error });
        });
    }, 250);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [start, end, count]);

  const confirm = async (e: Event) => {
    e.preventDefault();
    const b = body();
    if (!b) return;
    setCreating(true);
    setCreateError(null);
    try {
      const r = await call<Reservation>('POST', '/v1/reservations/', { body: b });
      props.onClose();
      navigate(`reservations?id=${encodeURIComponent(r.id ?? '')}`);
    } catch (err) {
      setCreateError(err);
      setCreating(false);
    }
  };

  const errors = check.state === 'refused' ? fieldErrors(check.error) : {};
  const hours = hoursBetween(fromInput(start), fromInput(end));
  return (
    <Dialog title={`Book ${flavor.name}`} onClose={props.onClose}>
      <form onSubmit={confirm} class="booking">
        <p class="flavor-specs">
          {flavor.vcpu} vCPU · {Math.round(flavor.memory_mb / 1024)} GB RAM · {flavor.disk_gb} GB disk · up to {flavor.max_length_hours}{' '}
          hours
          {flavor.availability_zone ? ` · ${flavor.availability_zone}` : ''}
        </p>
        <Field label="Instances" errors={errors.instance_count}>
          {(p) => (
            <input
              {...p}
              type="number"
              min={1}
              max={props.draft.maxInstances ?? flavor.slots}
              required
              value={count}
              onInput={(e) => setCount(e.currentTarget.value)}
            />
          )}
        </Field>
        <Field label="Start" errors={errors.start}>
          {(p) => <input {...p} type="datetime-local" required value={start} onInput={(e) => setStart(e.currentTarget.value)} />}
        </Field>
        <Field label="End" errors={errors.end}>
          {(p) => <input {...p} type="datetime-local" required value={end} onInput={(e) => setEnd(e.currentTarget.value)} />}
        </Field>
        <div class="check" role="status" aria-live="polite">
          {check.state === 'checking' && <p>Checking eligibility…</p>}
          {check.state === 'ok' && (
            <p class="ok">
              <strong>Eligible</strong>: {check.r.instance_count} × {flavor.name}, {formatLocal(check.r.start)} to{' '}
              <span title={formatUtc(check.r.end)}>{formatLocal(check.r.end)}</span>, {check.r.hours ?? hours * check.r.instance_count}{' '}
              instance-hours{typeof check.r.cost === 'number' ? `, cost ${check.r.cost} service units` : ''}.
            </p>
          )}
          {check.state === 'refused' && (
            <p class="refused">
              <strong>Not eligible</strong>: {errorOf(check.error)}
            </p>
          )}
        </div>
        <ErrorText error={createError} />
        <div class="actions">
          <button type="submit" disabled={check.state !== 'ok' || creating}>
            {creating ? 'Booking…' : 'Confirm booking'}
          </button>
          <button type="button" class="secondary" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
