/**
 * Maintenance (operators, docs/dashboard.md): windows during which chosen
 * flavors cannot be booked; the Availability timeline shows them.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, type Flavor, getAll, type MaintenanceWindow } from '../api.js';
import { Dialog, ErrorText, Field, fieldErrors, Status, Time } from '../components/ui.js';
import { DAY, formatLocal, formatUtc, fromInput, HOUR, startOfMinute, toApi, toInput } from '../time.js';
import { ConfirmDelete } from './flavors.js';

type Load = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; list: MaintenanceWindow[] };

export function MaintenancePage(props: { heading: JSX.Element }) {
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const [flavors, setFlavors] = useState<Flavor[]>([]);
  const [tick, setTick] = useState(0);
  const [editing, setEditing] = useState<MaintenanceWindow | 'new' | null>(null);
  const [removing, setRemoving] = useState<MaintenanceWindow | null>(null);
  const refresh = () => setTick((t) => t + 1);

  useEffect(() => {
    getAll<MaintenanceWindow>('/v1/maintenancewindows/').then(
      (list) => setLoad({ state: 'ready', list: list.sort((a, b) => a.start.localeCompare(b.start)) }),
      (error) => setLoad({ state: 'error', error }),
    );
  }, [tick]);
  useEffect(() => {
    getAll<Flavor>('/v1/flavors/?all_projects=true').then(
      (l) => setFlavors(l.sort((a, b) => a.name.localeCompare(b.name))),
      () => setFlavors([]),
    );
  }, []);

  return (
    <>
      {props.heading}
      <div class="section-head">
        <p class="lead">While a window is open, its flavors cannot be booked.</p>
        <button type="button" onClick={() => setEditing('new')}>
          New maintenance window
        </button>
      </div>
      {load.state === 'loading' && <Status busy>Loading the maintenance windows…</Status>}
      {load.state === 'error' && <ErrorText error={load.error} />}
      {load.state === 'ready' && load.list.length === 0 && <Status>No maintenance is planned.</Status>}
      {load.state === 'ready' && load.list.length > 0 && (
        <div class="table-wrap">
          <table aria-label="Maintenance windows">
            <thead>
              <tr>
                <th scope="col">Start</th>
                <th scope="col">End</th>
                <th scope="col">Flavors</th>
                <th scope="col">Note</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {load.list.map((w) => (
                <tr key={w.id}>
                  <td>
                    <Time value={w.start} text={formatLocal(w.start)} utc={formatUtc(w.start)} />
                  </td>
                  <td>
                    <Time value={w.end} text={formatLocal(w.end)} utc={formatUtc(w.end)} />
                  </td>
                  <td>{w.flavors.map((f) => f.name).join(', ') || '—'}</td>
                  <td>{w.note ?? ''}</td>
                  <td class="row-actions">
                    <button
                      type="button"
                      class="secondary"
                      aria-label={`Edit window from ${formatLocal(w.start)}`}
                      onClick={() => setEditing(w)}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      class="danger"
                      aria-label={`Delete window from ${formatLocal(w.start)}`}
                      onClick={() => setRemoving(w)}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editing && (
        <WindowDialog
          window={editing === 'new' ? null : editing}
          flavors={flavors}
          onClose={() => setEditing(null)}
          onDone={() => {
            setEditing(null);
            refresh();
          }}
        />
      )}
      {removing && (
        <ConfirmDelete
          what="this maintenance window"
          path={`/v1/maintenancewindows/${removing.id}/`}
          onClose={() => setRemoving(null)}
          onDone={() => {
            setRemoving(null);
            refresh();
          }}
        />
      )}
    </>
  );
}

function WindowDialog(props: { window: MaintenanceWindow | null; flavors: Flavor[]; onClose: () => void; onDone: () => void }) {
  const w = props.window;
  const soon = Math.ceil((startOfMinute(Date.now()) + HOUR) / HOUR) * HOUR;
  const [start, setStart] = useState(toInput(w ? w.start : soon));
  const [end, setEnd] = useState(toInput(w ? w.end : soon + DAY));
  const [note, setNote] = useState(w?.note ?? '');
  const [chosen, setChosen] = useState<Set<string>>(new Set(w?.flavors.map((f) => f.id) ?? []));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(error);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { start: toApi(fromInput(start)), end: toApi(fromInput(end)), note: note || null, flavor_ids: [...chosen] };
    try {
      await call(w ? 'PATCH' : 'POST', w ? `/v1/maintenancewindows/${w.id}/` : '/v1/maintenancewindows/', { body });
      props.onDone();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Dialog title={w ? 'Edit maintenance window' : 'New maintenance window'} onClose={props.onClose}>
      <form onSubmit={submit}>
        <Field label="Start" errors={errors.start}>
          {(p) => <input {...p} type="datetime-local" required value={start} onInput={(e) => setStart(e.currentTarget.value)} />}
        </Field>
        <Field label="End" errors={errors.end}>
          {(p) => <input {...p} type="datetime-local" required value={end} onInput={(e) => setEnd(e.currentTarget.value)} />}
        </Field>
        <Field label="Note" errors={errors.note}>
          {(p) => <input {...p} maxLength={255} value={note} onInput={(e) => setNote(e.currentTarget.value)} />}
        </Field>
        <fieldset class="flavor-choice">
          <legend>Flavors</legend>
          {props.flavors.length === 0 && <p>Loading the flavors…</p>}
          {props.flavors.map((f) => (
            <label key={f.id} class="inline">
              <input
                type="checkbox"
                checked={chosen.has(f.id)}
                onChange={(e) => {
                  const next = new Set(chosen);
                  if (e.currentTarget.checked) next.add(f.id);
                  else next.delete(f.id);
                  setChosen(next);
                }}
              />{' '}
              {f.name}
            </label>
          ))}
          {errors.flavor_ids && <small class="error">{errors.flavor_ids.join(' ')}</small>}
        </fieldset>
        <ErrorText error={error} fields={['start', 'end', 'note', 'flavor_ids']} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {w ? 'Save window' : 'Create window'}
          </button>
          <button type="button" class="secondary" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
