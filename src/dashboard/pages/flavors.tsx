/**
 * Flavors (operators, docs/dashboard.md): list, create, edit, delete, and the
 * projects a private flavor is granted to (`/v1/flavorprojects/`).
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, type Flavor, type Grant, getAll, type WhoAmI } from '../api.js';
import { Dialog, ErrorText, Field, fieldErrors, Status } from '../components/ui.js';
import { fromInput, toApi, toInput } from '../time.js';

type Load = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; list: Flavor[] };

export function FlavorsPage(props: { heading: JSX.Element; who: WhoAmI | null }) {
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  const [editing, setEditing] = useState<Flavor | 'new' | null>(null);
  const [removing, setRemoving] = useState<Flavor | null>(null);
  const [access, setAccess] = useState<Flavor | null>(null);
  const refresh = () => setTick((t) => t + 1);

  useEffect(() => {
    getAll<Flavor>('/v1/flavors/?all_projects=true').then(
      (list) => setLoad({ state: 'ready', list: list.sort((a, b) => a.name.localeCompare(b.name)) }),
      (error) => setLoad({ state: 'error', error }),
    );
  }, [tick]);

  return (
    <>
      {props.heading}
      <div class="section-head">
        <p class="lead">Reservable flavors; private ones are bookable only by the projects they are granted to.</p>
        <button type="button" onClick={() => setEditing('new')}>
          New flavor
        </button>
      </div>
      {load.state === 'loading' && <Status busy>Loading the flavors…</Status>}
      {load.state === 'error' && <ErrorText error={load.error} />}
      {load.state === 'ready' && load.list.length === 0 && <Status>There are no flavors yet. Create the first one.</Status>}
      {load.state === 'ready' && load.list.length > 0 && (
        <div class="table-wrap">
          <table aria-label="Flavors">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Resources</th>
                <th scope="col">Slots</th>
                <th scope="col">Max hours</th>
                <th scope="col">Category / zone</th>
                <th scope="col">Access</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {load.list.map((f) => (
                <tr key={f.id}>
                  <th scope="row">
                    {f.name}
                    {!f.active && <small class="reason"> (inactive)</small>}
                  </th>
                  <td>
                    {f.vcpu} vCPU, {f.memory_mb} MB, {f.disk_gb} GB
                  </td>
                  <td>{f.slots}</td>
                  <td>{f.max_length_hours}</td>
                  <td>{[f.category, f.availability_zone].filter(Boolean).join(' / ') || '—'}</td>
                  <td>{f.is_public ? 'Public' : 'Private'}</td>
                  <td class="row-actions">
                    <button type="button" class="secondary" aria-label={`Edit ${f.name}`} onClick={() => setEditing(f)}>
                      Edit
                    </button>
                    {!f.is_public && props.who?.can.list_grants && (
                      <button type="button" class="secondary" aria-label={`Projects of ${f.name}`} onClick={() => setAccess(f)}>
                        Projects
                      </button>
                    )}
                    <button type="button" class="danger" aria-label={`Delete ${f.name}`} onClick={() => setRemoving(f)}>
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
        <FlavorDialog
          flavor={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onDone={() => {
            setEditing(null);
            refresh();
          }}
        />
      )}
      {removing && (
        <ConfirmDelete
          what={`flavor ${removing.name}`}
          path={`/v1/flavors/${removing.id}/`}
          onClose={() => setRemoving(null)}
          onDone={() => {
            setRemoving(null);
            refresh();
          }}
        />
      )}
      {access && <GrantsDialog flavor={access} canManage={!!props.who?.can.manage_grants} onClose={() => setAccess(null)} />}
    </>
  );
}

export function ConfirmDelete(props: { what: string; path: string; onClose: () => void; onDone: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={`Delete ${props.what}?`} onClose={props.onClose}>
      <p>This cannot be undone.</p>
      <ErrorText error={error} />
      <div class="actions">
        <button
          type="button"
          class="danger"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await call('DELETE', props.path);
              props.onDone();
            } catch (err) {
              setError(err);
              setBusy(false);
            }
          }}
        >
          Delete
        </button>
        <button type="button" class="secondary" onClick={props.onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}

interface FlavorForm {
  name: string;
  description: string;
  vcpu: string;
  memory_mb: string;
  disk_gb: string;
  ephemeral_gb: string;
  slots: string;
  max_length_hours: string;
  category: string;
  availability_zone: string;
  is_public: boolean;
  active: boolean;
  start: string;
  end: string;
  extra_specs: string;
}

function FlavorDialog(props: { flavor: Flavor | null; onClose: () => void; onDone: () => void }) {
  const f = props.flavor;
  const [form, setForm] = useState<FlavorForm>({
    name: f?.name ?? '',
    description: f?.description ?? '',
    vcpu: String(f?.vcpu ?? 1),
    memory_mb: String(f?.memory_mb ?? 1024),
    disk_gb: String(f?.disk_gb ?? 10),
    ephemeral_gb: String(f?.ephemeral_gb ?? 0),
    slots: String(f?.slots ?? 1),
    max_length_hours: String(f?.max_length_hours ?? 504),
    category: f?.category ?? '',
    availability_zone: f?.availability_zone ?? '',
    is_public: f?.is_public ?? true,
    active: f?.active ?? true,
    start: f?.start ? toInput(f.start) : '',
    end: f?.end ? toInput(f.end) : '',
    extra_specs: f && Object.keys(f.extra_specs ?? {}).length ? JSON.stringify(f.extra_specs) : '',
  });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof FlavorForm) => (e: Event) => {
    const t = e.currentTarget as HTMLInputElement;
    setForm({ ...form, [k]: t.type === 'checkbox' ? t.checked : t.value });
  };
  const errors = fieldErrors(error);

  const submit = async (e: Event) => {
    e.preventDefault();
    let extra: unknown = null;
    if (form.extra_specs.trim()) {
      try {
        extra = JSON.parse(form.extra_specs);
      } catch {
        setError(new Error('Extra specs must be a JSON object, e.g. {"trait:CUSTOM_GPU": "required"}'));
        return;
      }
    }
    const body: Record<string, unknown> = {
      name: form.name,
      description: form.description || null,
      slots: Number(form.slots),
      max_length_hours: Number(form.max_length_hours),
      category: form.category || null,
      availability_zone: form.availability_zone || null,
      is_public: form.is_public,
      active: form.active,
      start: form.start ? toApi(fromInput(form.start)) : null,
      end: form.end ? toApi(fromInput(form.end)) : null,
      extra_specs: extra,
      ephemeral_gb: Number(form.ephemeral_gb),
    };
    if (!f) Object.assign(body, { vcpu: Number(form.vcpu), memory_mb: Number(form.memory_mb), disk_gb: Number(form.disk_gb) });
    setBusy(true);
    setError(null);
    try {
      await call(f ? 'PATCH' : 'POST', f ? `/v1/flavors/${f.id}/` : '/v1/flavors/', { body });
      props.onDone();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const num = (k: keyof FlavorForm, label: string, min: number, disabled = false) => (
    <Field label={label} errors={errors[k]}>
      {(p) => <input {...p} type="number" min={min} required disabled={disabled} value={form[k] as string} onInput={set(k)} />}
    </Field>
  );
  return (
    <Dialog title={f ? `Edit ${f.name}` : 'New flavor'} onClose={props.onClose} wide>
      <form onSubmit={submit}>
        <div class="grid2">
          <Field label="Name" errors={errors.name}>
            {(p) => <input {...p} required maxLength={64} value={form.name} onInput={set('name')} />}
          </Field>
          <Field label="Description" errors={errors.description}>
            {(p) => <input {...p} maxLength={255} value={form.description} onInput={set('description')} />}
          </Field>
          {num('vcpu', 'vCPUs', 1, !!f)}
          {num('memory_mb', 'Memory (MB)', 1, !!f)}
          {num('disk_gb', 'Disk (GB)', 0, !!f)}
          {num('ephemeral_gb', 'Ephemeral disk (GB)', 0)}
          {num('slots', 'Slots', 1)}
          {num('max_length_hours', 'Longest reservation (hours)', 1)}
          <Field label="Category" errors={errors.category}>
            {(p) => <input {...p} value={form.category} onInput={set('category')} />}
          </Field>
          <Field label="Availability zone" errors={errors.availability_zone}>
            {(p) => <input {...p} value={form.availability_zone} onInput={set('availability_zone')} />}
          </Field>
          <Field label="Bookable from" errors={errors.start} hint="Optional">
            {(p) => <input {...p} type="datetime-local" value={form.start} onInput={set('start')} />}
          </Field>
          <Field label="Bookable until" errors={errors.end} hint="Optional">
            {(p) => <input {...p} type="datetime-local" value={form.end} onInput={set('end')} />}
          </Field>
        </div>
        <Field label="Extra specs (JSON)" errors={errors.extra_specs} hint="Optional">
          {(p) => <input {...p} value={form.extra_specs} onInput={set('extra_specs')} />}
        </Field>
        <label class="inline">
          <input type="checkbox" checked={form.is_public} onChange={set('is_public')} /> Public (every project may book it)
        </label>
        <label class="inline">
          <input type="checkbox" checked={form.active} onChange={set('active')} /> Active
        </label>
        {f && <p class="hint">vCPUs, memory and disk cannot change: leases were made from them.</p>}
        <ErrorText error={error} fields={Object.keys(form)} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {f ? 'Save flavor' : 'Create flavor'}
          </button>
          <button type="button" class="secondary" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function GrantsDialog(props: { flavor: Flavor; canManage: boolean; onClose: () => void }) {
  const [grants, setGrants] = useState<Grant[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [project, setProject] = useState('');
  const [tick, setTick] = useState(0);
  useEffect(() => {
    getAll<Grant>(`/v1/flavorprojects/?flavor_id=${props.flavor.id}`).then(setGrants, setError);
  }, [tick]);
  const grant = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await call('POST', '/v1/flavorprojects/', { body: { flavor_id: props.flavor.id, project_id: project.trim() } });
      setProject('');
      setTick((t) => t + 1);
    } catch (err) {
      setError(err);
    }
  };
  const revoke = async (g: Grant) => {
    setError(null);
    try {
      await call('DELETE', `/v1/flavorprojects/${g.id}/`);
      setTick((t) => t + 1);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Dialog title={`Projects that may book ${props.flavor.name}`} onClose={props.onClose}>
      {grants === null && !error && <Status busy>Loading the grants…</Status>}
      {grants && grants.length === 0 && <Status>No project may book this private flavor yet.</Status>}
      {grants && grants.length > 0 && (
        <ul class="grants" aria-label="Granted projects">
          {grants.map((g) => (
            <li key={g.id}>
              <code>{g.project_id}</code>
              {props.canManage && (
                <button type="button" class="danger" aria-label={`Revoke ${g.project_id}`} onClick={() => void revoke(g)}>
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {props.canManage && (
        <form onSubmit={grant} class="inline-form">
          <Field label="Project ID" errors={fieldErrors(error).project_id}>
            {(p) => <input {...p} required value={project} onInput={(e) => setProject(e.currentTarget.value)} />}
          </Field>
          <button type="submit">Grant</button>
        </form>
      )}
      <ErrorText error={error} />
    </Dialog>
  );
}
