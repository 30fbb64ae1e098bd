/**
 * Availability (docs/dashboard.md): every flavor the caller may book on one
 * timeline from `GET /v1/availability/`, with filters, zoom (2 days in hours to
 * 3 months), the legend, and booking from a stretch.
 */
import type { JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { type Availability, type AvailabilityRow, get, getAll, type MaintenanceWindow, type WhoAmI } from '../api.js';
import { BookingDialog, type BookingDraft } from '../components/booking.js';
import { Legend, type Stretch, Timeline } from '../components/timeline.js';
import { ErrorText, Status } from '../components/ui.js';
import { DAY, formatLocal, HOUR, startOfDay, startOfMinute, toApi, zoneAbbreviation } from '../time.js';

const RANGES = [
  { id: '2d', label: '2 days (hours)', span: 2 * DAY },
  { id: '1w', label: '1 week', span: 7 * DAY },
  { id: '4w', label: '4 weeks', span: 28 * DAY },
  { id: '3m', label: '3 months', span: 91 * DAY },
] as const;
type RangeId = (typeof RANGES)[number]['id'];

type Load = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; data: Availability };

export function AvailabilityPage(props: { heading: JSX.Element; who: WhoAmI | null }) {
  const [range, setRange] = useState<RangeId>('4w');
  const [offset, setOffset] = useState(0);
  const [category, setCategory] = useState('');
  const [zone, setZone] = useState('');
  const [search, setSearch] = useState('');
  // Operators see every flavor (private ones too), as on the Flavors page; others what they may book.
  const canAll = !!props.who?.can.all_flavors;
  const [allFlavors, setAllFlavors] = useState(true);
  const all = canAll && allFlavors;
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const [windows, setWindows] = useState<MaintenanceWindow[]>([]);
  const [draft, setDraft] = useState<BookingDraft | null>(null);
  const [now] = useState(() => startOfMinute(Date.now()));

  const span = RANGES.find((r) => r.id === range)!.span;
  const from = offset === 0 ? now : (range === '2d' ? Math.floor(now / HOUR) * HOUR : startOfDay(now)) + offset * span;
  const to = from + span;

  useEffect(() => {
    const ctl = new AbortController();
    setLoad((l) => (l.state === 'ready' ? l : { state: 'loading' }));
    const q = `start=${encodeURIComponent(toApi(from))}&end=${encodeURIComponent(toApi(to))}${all ? '&all_projects=true' : ''}`;
    get<Availability>(`/v1/availability/?${q}`, { signal: ctl.signal })
      .then((data) => setLoad({ state: 'ready', data }))
      .catch((error) => (error as Error).name !== 'AbortError' && setLoad({ state: 'error', error }));
    return () => ctl.abort();
  }, [from, to, all]);

  useEffect(() => {
    getAll<MaintenanceWindow>('/v1/maintenancewindows/')
      .then(setWindows)
      .catch(() => setWindows([]));
  }, []);

  const rows = load.state === 'ready' ? load.data.results : [];
  const categories = useMemo(() => [...new Set(rows.map((r) => r.flavor.category).filter((c): c is string => !!c))].sort(), [rows]);
  const zones = useMemo(() => [...new Set(rows.map((r) => r.flavor.availability_zone).filter((c): c is string => !!c))].sort(), [rows]);
  const shown = useMemo(() => {
    const q = search.trim().toLowerCase();
    return rows.filter(
      (r) =>
        (!category || r.flavor.category === category) &&
        (!zone || r.flavor.availability_zone === zone) &&
        (!q || r.flavor.name.toLowerCase().includes(q) || (r.flavor.description ?? '').toLowerCase().includes(q)),
    );
  }, [rows, category, zone, search]);

  const book = (row: AvailabilityRow, s: Stretch) => {
    const start = Math.max(s.start, startOfMinute(Date.now()) + 5 * 60_000);
    const end = Math.min(s.end, start + row.flavor.max_length_hours * HOUR);
    setDraft({ flavor: row.flavor, start, end: Math.max(end, start + HOUR), instances: 1, maxInstances: s.free });
  };

  return (
    <>
      {props.heading}
      <p class="lead">
        Free slots of every flavor you may book, from {formatLocal(from)} to {formatLocal(to)}. Choose a stretch with free slots to book it.
      </p>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          <span>Category</span>
          <select value={category} onChange={(e) => setCategory(e.currentTarget.value)}>
            <option value="">All categories</option>
            {categories.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Availability zone</span>
          <select value={zone} onChange={(e) => setZone(e.currentTarget.value)}>
            <option value="">All zones</option>
            {zones.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Search</span>
          <input type="search" value={search} placeholder="Flavor name" onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
        <label>
          <span>Range</span>
          <select
            value={range}
            onChange={(e) => {
              setRange(e.currentTarget.value as RangeId);
              setOffset(0);
            }}
          >
            {RANGES.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        {canAll && (
          <label class="inline">
            <input type="checkbox" checked={allFlavors} onChange={(e) => setAllFlavors(e.currentTarget.checked)} /> All flavors (every
            project's)
          </label>
        )}
        <div class="pager" role="group" aria-label="Move in time">
          <button type="button" class="secondary" disabled={offset <= 0} onClick={() => setOffset(offset - 1)}>
            Earlier
          </button>
          <button type="button" class="secondary" disabled={offset === 0} onClick={() => setOffset(0)}>
            Now
          </button>
          <button type="button" class="secondary" onClick={() => setOffset(offset + 1)}>
            Later
          </button>
        </div>
      </form>
      <Legend />
      {load.state === 'loading' && <Status busy>Loading the availability of the flavors…</Status>}
      {load.state === 'error' && <ErrorText error={load.error} />}
      {load.state === 'ready' && rows.length === 0 && (
        <Status>There is no flavor you may book. Ask the cloud operators for access to a flavor.</Status>
      )}
      {load.state === 'ready' && rows.length > 0 && shown.length === 0 && <Status>No flavor matches these filters.</Status>}
      {load.state === 'ready' && shown.length > 0 && (
        <>
          <p class="sr-only" role="status">
            {shown.length} flavors shown, times in {zoneAbbreviation(from)}.
          </p>
          <Timeline rows={shown} from={from} to={to} windows={windows} onBook={book} />
        </>
      )}
      {draft && <BookingDialog draft={draft} onClose={() => setDraft(null)} />}
    </>
  );
}
