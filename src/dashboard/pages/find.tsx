/**
 * Find a slot (docs/dashboard.md): the earliest booking of each flavor that fits
 * a need, from `GET /v1/offers/`; "Book" opens the booking form on the offer.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { get, type Offer } from '../api.js';
import { BookingDialog, type BookingDraft } from '../components/booking.js';
import { ErrorText, Field, fieldErrors, Status, Time } from '../components/ui.js';
import { formatLocal, formatUtc, fromInput, startOfMinute, toApi, toInput } from '../time.js';

type Result = { state: 'idle' } | { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; offers: Offer[] };

export function FindPage(props: { heading: JSX.Element }) {
  const [form, setForm] = useState({
    instances: '1',
    hours: '24',
    earliest: toInput(startOfMinute(Date.now()) + 10 * 60_000),
    latest: '',
    category: '',
    zone: '',
  });
  const [result, setResult] = useState<Result>({ state: 'idle' });
  const [draft, setDraft] = useState<BookingDraft | null>(null);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });

  const search = async (e: Event) => {
    e.preventDefault();
    const q = new URLSearchParams({ instance_count: form.instances, hours: form.hours });
    const earliest = fromInput(form.earliest);
    const latest = fromInput(form.latest);
    if (!Number.isNaN(earliest)) q.set('earliest_start', toApi(earliest));
    if (!Number.isNaN(latest)) q.set('latest_start', toApi(latest));
    if (form.category.trim()) q.set('category', form.category.trim());
    if (form.zone.trim()) q.set('availability_zone', form.zone.trim());
    setResult({ state: 'loading' });
    try {
      const r = await get<{ results: Offer[] }>(`/v1/offers/?${q.toString()}`);
      setResult({ state: 'ready', offers: r.results });
    } catch (error) {
      setResult({ state: 'error', error });
    }
  };

  const errors = result.state === 'error' ? fieldErrors(result.error) : {};
  return (
    <>
      {props.heading}
      <p class="lead">Say what you need; Warre lists the earliest start on each flavor that fits it.</p>
      <form class="card find" onSubmit={search} aria-label="Find a slot">
        <div class="grid2">
          <Field label="Instances" errors={errors.instance_count}>
            {(p) => <input {...p} type="number" min={1} required value={form.instances} onInput={set('instances')} />}
          </Field>
          <div class="field">
            <Field label="Hours" errors={errors.hours}>
              {(p) => <input {...p} type="number" min={1} required value={form.hours} onInput={set('hours')} />}
            </Field>
            <div class="shortcuts" role="group" aria-label="Duration shortcuts">
              {[1, 2, 7].map((d) => (
                <button key={d} type="button" class="chip" onClick={() => setForm({ ...form, hours: String(d * 24) })}>
                  {d === 1 ? '1 day' : d === 7 ? '1 week' : `${d} days`}
                </button>
              ))}
            </div>
          </div>
          <Field label="Earliest start" errors={errors.earliest_start}>
            {(p) => <input {...p} type="datetime-local" value={form.earliest} onInput={set('earliest')} />}
          </Field>
          <Field label="Latest start" errors={errors.latest_start} hint="Optional">
            {(p) => <input {...p} type="datetime-local" value={form.latest} onInput={set('latest')} />}
          </Field>
          <Field label="Category" errors={errors.category} hint="Optional">
            {(p) => <input {...p} value={form.category} onInput={set('category')} />}
          </Field>
          <Field label="Availability zone" errors={errors.availability_zone} hint="Optional">
            {(p) => <input {...p} value={form.zone} onInput={set('zone')} />}
          </Field>
        </div>
        <button type="submit" disabled={result.state === 'loading'}>
          Search
        </button>
      </form>
      {result.state === 'loading' && <Status busy>Searching for free slots…</Status>}
      {result.state === 'error' && <ErrorText error={result.error} />}
      {result.state === 'ready' && result.offers.length === 0 && (
        <Status>No flavor has room for that. Try fewer instances, fewer hours or a later latest start.</Status>
      )}
      {result.state === 'ready' && result.offers.length > 0 && (
        <section aria-label="Offers">
          <Status>{result.offers.length === 1 ? 'One offer found.' : `${result.offers.length} offers found.`}</Status>
          <ul class="offers">
            {result.offers.map((o) => (
              <li key={`${o.flavor.id}-${o.start}`} class="card offer">
                <h2>{o.flavor.name}</h2>
                <p class="flavor-specs">
                  {o.flavor.vcpu} vCPU · {Math.round(o.flavor.memory_mb / 1024)} GB RAM · {o.flavor.disk_gb} GB disk
                  {o.flavor.availability_zone ? ` · ${o.flavor.availability_zone}` : ''}
                </p>
                <dl>
                  <dt>Start</dt>
                  <dd>
                    <Time value={o.start} text={formatLocal(o.start)} utc={formatUtc(o.start)} />
                  </dd>
                  <dt>End</dt>
                  <dd>
                    <Time value={o.end} text={formatLocal(o.end)} utc={formatUtc(o.end)} />
                  </dd>
                  <dt>Hours</dt>
                  <dd>
                    {o.hours} instance-hours ({o.instance_count} × {Math.round((Date.parse(o.end) - Date.parse(o.start)) / 36e5)} h)
                  </dd>
                  <dt>Cost</dt>
                  <dd>{o.cost === null ? 'not known' : `${o.cost} service units`}</dd>
                  <dt>Eligibility</dt>
                  <dd class={o.within_quota ? 'ok' : 'refused'}>
                    {o.within_quota ? 'Within your quota' : `Over quota: ${o.quota_reason ?? ''}`}
                  </dd>
                </dl>
                <button
                  type="button"
                  aria-label={`Book ${o.flavor.name} from ${formatLocal(o.start)}`}
                  onClick={() =>
                    setDraft({
                      flavor: o.flavor,
                      start: Date.parse(o.start),
                      end: Date.parse(o.end),
                      instances: o.instance_count,
                      maxInstances: null,
                    })
                  }
                >
                  Book
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {draft && <BookingDialog draft={draft} onClose={() => setDraft(null)} />}
    </>
  );
}
