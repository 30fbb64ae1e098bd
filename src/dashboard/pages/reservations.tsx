/**
 * My reservations (docs/dashboard.md): the project's reservations with statuses
 * that refresh by themselves while one is PENDING_CREATE or ALLOCATED, Extend
 * (ACTIVE only), Delete (confirmed), Add to calendar (.ics), and the Quota region.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, download, get, getAll, type Limits, type Reservation, type WhoAmI } from '../api.js';
import { Dialog, ErrorText, errorOf, Field, Status, Time } from '../components/ui.js';
import { formatLocal, formatUtc, fromInput, toApi, toInput } from '../time.js';

const STATUS_TEXT: Record<string, string> = {
  PENDING_CREATE: 'Pending (creating the lease)',
  ALLOCATED: 'Allocated',
  ACTIVE: 'Active',
  COMPLETE: 'Complete',
  ERROR: 'Error',
};

type Load = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; list: Reservation[] };

async function saveFile(path: string, name: string): Promise<void> {
  const blob = await download(path);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ReservationsPage(props: { heading: JSX.Element; who: WhoAmI | null; highlight: string | null }) {
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const [allProjects, setAllProjects] = useState(false);
  const [tick, setTick] = useState(0);
  const [extend, setExtend] = useState<Reservation | null>(null);
  const [remove, setRemove] = useState<Reservation | null>(null);
  const [rowError, setRowError] = useState<{ id: string; error: unknown } | null>(null);
  const refresh = () => setTick((t) => t + 1);

  useEffect(() => {
    let live = true;
    getAll<Reservation>(`/v1/reservations/${allProjects ? '?all_projects=true' : ''}`)
      .then((list) => live && setLoad({ state: 'ready', list }))
      .catch((error) => live && setLoad({ state: 'error', error }));
    return () => {
      live = false;
    };
  }, [tick, allProjects]);

  // Statuses change by themselves: poll while a lease is being made or waits to start.
  const list = load.state === 'ready' ? load.list : [];
  // PENDING_CREATE becomes ALLOCATED within seconds; ALLOCATED becomes ACTIVE at its start.
  const delays = list.flatMap((r) => {
    if (r.status === 'PENDING_CREATE') return [1500];
    if (r.status === 'ALLOCATED') return [Math.min(30_000, Math.max(1500, Date.parse(r.start) - Date.now() + 1000))];
    return [];
  });
  const delay = delays.length > 0 ? Math.min(...delays) : null;
  useEffect(() => {
    if (delay === null) return;
    const timer = setTimeout(() => !document.hidden && refresh(), delay);
    return () => clearTimeout(timer);
  }, [load, delay]);

  const calendar = async (r: Reservation | null) => {
    setRowError(null);
    try {
      if (r?.id) await saveFile(`/v1/reservations/${r.id}/calendar.ics`, `warre-reservation-${r.id}.ics`);
      else await saveFile('/v1/reservations/calendar.ics', 'warre-reservations.ics');
    } catch (error) {
      setRowError({ id: r?.id ?? 'all', error });
    }
  };

  return (
    <>
      {props.heading}
      <Quota key={tick} />
      <section aria-labelledby="res-h">
        <div class="section-head">
          <h2 id="res-h">Reservations</h2>
          <div class="actions">
            {props.who?.can.all_projects && (
              <label class="inline">
                <input type="checkbox" checked={allProjects} onChange={(e) => setAllProjects(e.currentTarget.checked)} /> All projects
              </label>
            )}
            <button type="button" class="secondary" onClick={() => void calendar(null)}>
              Add all to calendar
            </button>
          </div>
        </div>
        {rowError?.id === 'all' && <ErrorText error={rowError.error} />}
        {load.state === 'loading' && <Status busy>Loading your reservations…</Status>}
        {load.state === 'error' && <ErrorText error={load.error} />}
        {load.state === 'ready' && list.length === 0 && (
          <Status>You have no reservations yet. Find a free slot on the Availability page or with Find a slot.</Status>
        )}
        {list.length > 0 && (
          <div class="table-wrap">
            <table aria-label="Reservations">
              <thead>
                <tr>
                  <th scope="col">Flavor</th>
                  {allProjects && <th scope="col">Project</th>}
                  <th scope="col">Instances</th>
                  <th scope="col">Start</th>
                  <th scope="col">End</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.map((r) => (
                  <tr
                    key={r.id}
                    class={r.id === props.highlight ? 'highlight' : undefined}
                    aria-current={r.id === props.highlight ? 'true' : undefined}
                  >
                    <th scope="row">{r.flavor.name}</th>
                    {allProjects && <td>{r.project_id}</td>}
                    <td>{r.instance_count}</td>
                    <td>
                      <Time value={r.start} text={formatLocal(r.start)} utc={formatUtc(r.start)} />
                    </td>
                    <td>
                      <Time value={r.end} text={formatLocal(r.end)} utc={formatUtc(r.end)} />
                    </td>
                    <td>
                      <span class={`badge st-${r.status}`}>{STATUS_TEXT[r.status] ?? r.status}</span>
                      {r.status_reason && <small class="reason">{r.status_reason}</small>}
                    </td>
                    <td>
                      {r.created_at ? <Time value={r.created_at} text={formatLocal(r.created_at)} utc={formatUtc(r.created_at)} /> : ''}
                    </td>
                    <td class="row-actions">
                      {r.status === 'ACTIVE' && (
                        <button
                          type="button"
                          class="secondary"
                          aria-label={`Extend ${r.flavor.name} reservation`}
                          onClick={() => setExtend(r)}
                        >
                          Extend
                        </button>
                      )}
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`Add to calendar: ${r.flavor.name} reservation`}
                        onClick={() => void calendar(r)}
                      >
                        Add to calendar
                      </button>
                      <button type="button" class="danger" aria-label={`Delete ${r.flavor.name} reservation`} onClick={() => setRemove(r)}>
                        Delete
                      </button>
                      {rowError?.id === r.id && <ErrorText error={rowError.error} />}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {extend && (
        <ExtendDialog
          r={extend}
          onClose={() => setExtend(null)}
          onDone={() => {
            setExtend(null);
            refresh();
          }}
        />
      )}
      {remove && (
        <DeleteDialog
          r={remove}
          onClose={() => setRemove(null)}
          onDone={() => {
            setRemove(null);
            refresh();
          }}
        />
      )}
    </>
  );
}

function ExtendDialog(props: { r: Reservation; onClose: () => void; onDone: () => void }) {
  const [end, setEnd] = useState(toInput(Date.parse(props.r.end) + 24 * 3_600_000));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = fromInput(end);
    if (Number.isNaN(t)) return setError(new Error('Choose the new end.'));
    setBusy(true);
    setError(null);
    try {
      await call('PATCH', `/v1/reservations/${props.r.id}/`, { body: { end: toApi(t) } });
      props.onDone();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Extend ${props.r.flavor.name}`} onClose={props.onClose}>
      <form onSubmit={submit}>
        <p>Now ends {formatLocal(props.r.end)}.</p>
        <Field label="New end">
          {(p) => <input {...p} type="datetime-local" required value={end} onInput={(e) => setEnd(e.currentTarget.value)} />}
        </Field>
        <ErrorText error={error} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            Extend
          </button>
          <button type="button" class="secondary" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteDialog(props: { r: Reservation; onClose: () => void; onDone: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    setBusy(true);
    try {
      await call('DELETE', `/v1/reservations/${props.r.id}/`);
      props.onDone();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Dialog title="Delete this reservation?" onClose={props.onClose}>
      <p>
        {props.r.instance_count} × {props.r.flavor.name}, {formatLocal(props.r.start)} to {formatLocal(props.r.end)}. Its lease and any
        instances on it end.
      </p>
      <ErrorText error={error} />
      <div class="actions">
        <button type="button" class="danger" disabled={busy} onClick={() => void confirm()}>
          Delete reservation
        </button>
        <button type="button" class="secondary" onClick={props.onClose}>
          Keep it
        </button>
      </div>
    </Dialog>
  );
}

function Bar(props: { label: string; used: number; max: number; unit: string }) {
  const unlimited = props.max < 0;
  const pct = unlimited || props.max === 0 ? 0 : Math.min(100, (props.used / props.max) * 100);
  const text = unlimited ? `${props.used} ${props.unit} used, no limit` : `${props.used} of ${props.max} ${props.unit} used`;
  return (
    <div class="quota-bar">
      <div class="quota-label">
        <span>{props.label}</span>
        <span>{text}</span>
      </div>
      <div
        class={`bar ${pct >= 100 ? 'full' : pct >= 80 ? 'high' : ''}`}
        role="meter"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={unlimited ? props.used : props.max}
        aria-valuenow={props.used}
        aria-valuetext={text}
      >
        <div class="bar-fill" style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

function Quota() {
  const [limits, setLimits] = useState<Limits | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    get<Limits>('/v1/limits/').then(setLimits, setError);
  }, []);
  return (
    <section aria-label="Quota" class="card quota">
      <h2>Quota</h2>
      {!limits && !error && <Status busy>Loading your quota…</Status>}
      {error ? <p class="error">{errorOf(error)}</p> : null}
      {limits && (
        <>
          <Bar
            label="Reservations"
            used={limits.absolute.totalReservationsUsed}
            max={limits.absolute.maxReservations}
            unit="reservations"
          />
          <Bar label="Hours" used={limits.absolute.totalHoursUsed} max={limits.absolute.maxHours} unit="hours" />
        </>
      )}
    </section>
  );
}
