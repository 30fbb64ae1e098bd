/**
 * The availability timeline (docs/dashboard.md "Availability"): an ARIA grid
 * named "Availability", one row per flavor named by the flavor's name, each
 * stretch of the free-slot step function a button telling its flavor, dates and
 * "k of N free" (as text, for screen readers and on hover/focus). One tab stop:
 * arrow keys move between stretches (Left/Right) and flavors (Up/Down),
 * Home/End to a row's ends; Enter or a click books a stretch with free slots.
 */
import { memo } from 'preact/compat';
import { useMemo, useRef, useState } from 'preact/hooks';
import type { AvailabilityRow, BookableFlavor, MaintenanceWindow } from '../api.js';
import { DAY, formatDay, formatHour, formatLocal, formatUtc, HOUR, startOfDay } from '../time.js';

export interface Stretch {
  start: number;
  end: number;
  /** Free slots (the smallest over a merged stretch). */
  free: number;
  /** The largest, when narrow stretches were merged. */
  maxFree: number;
  maintenance: boolean;
}

export type Level = 'all' | 'most' | 'some' | 'none' | 'maintenance';

export function levelOf(s: Stretch, slots: number): Level {
  if (s.maintenance && s.free === 0) return 'maintenance';
  if (s.free <= 0) return 'none';
  if (s.free >= slots) return 'all';
  return s.free * 2 >= slots ? 'most' : 'some';
}

export const LEVEL_TEXT: Record<Level, string> = {
  all: 'All slots free',
  most: 'Half or more free',
  some: 'Fewer than half free',
  none: 'Fully booked',
  maintenance: 'Maintenance',
};

/**
 * The row's stretches clipped to the view; runs of neighbours each narrower than
 * `minWidth` are merged (their smallest free count is what can surely be
 * booked), so a row never holds many more buttons than pixels can show.
 */
export function stretchesOf(
  row: AvailabilityRow,
  from: number,
  to: number,
  minWidth: number,
  windows: { start: number; end: number }[],
): Stretch[] {
  const out: Stretch[] = [];
  for (const raw of row.intervals) {
    // More booked than slots (an operator lowered them): shown as none free.
    const iv = raw.free < 0 ? { ...raw, free: 0 } : raw;
    const s = Math.max(Date.parse(iv.start), from);
    const e = Math.min(Date.parse(iv.end), to);
    if (e <= s) continue;
    const maintenance = iv.free === 0 && windows.some((w) => w.start < e && w.end > s);
    const last = out[out.length - 1];
    if (last && e - s < minWidth && last.end - last.start < minWidth && last.end === s) {
      last.end = e;
      last.free = Math.min(last.free, iv.free);
      last.maxFree = Math.max(last.maxFree, iv.free);
      last.maintenance = last.maintenance || maintenance;
    } else if (last && last.end === s && last.free === iv.free && last.maxFree === iv.free && last.maintenance === maintenance) {
      last.end = e;
    } else {
      out.push({ start: s, end: e, free: iv.free, maxFree: iv.free, maintenance });
    }
  }
  return out;
}

function freeText(s: Stretch, slots: number): string {
  return s.free === s.maxFree ? `${s.free} of ${slots} free` : `${s.free} to ${s.maxFree} of ${slots} free`;
}

/** Formatted boundaries: neighbouring stretches share them, and Intl formatting is the costly part of a label. */
const formatted = new Map<number, string>();
function local(t: number): string {
  let v = formatted.get(t);
  if (v === undefined) {
    if (formatted.size > 20_000) formatted.clear();
    v = formatLocal(t);
    formatted.set(t, v);
  }
  return v;
}

export function stretchLabel(flavor: BookableFlavor, s: Stretch, slots: number): string {
  return `${flavor.name}: ${local(s.start)} to ${local(s.end)}, ${freeText(s, slots)}${s.maintenance ? ', maintenance' : ''}`;
}

interface Tick {
  at: number;
  label: string;
}

function ticks(from: number, to: number): Tick[] {
  const span = to - from;
  const out: Tick[] = [];
  if (span <= 3 * DAY) {
    const step = span <= DAY ? 2 * HOUR : 6 * HOUR;
    for (let t = Math.ceil(from / HOUR) * HOUR; t < to; t += HOUR) {
      const d = new Date(t);
      if (d.getHours() % (step / HOUR) === 0) out.push({ at: t, label: d.getHours() === 0 ? formatDay(t) : formatHour(t) });
    }
    return out;
  }
  const every = span <= 10 * DAY ? 1 : span <= 40 * DAY ? 7 : 14;
  for (let t = startOfDay(from) + DAY; t < to; t = startOfDay(t + DAY + HOUR * 2)) {
    const d = new Date(t);
    // Weekly ticks on Mondays; daily otherwise.
    if (every === 1 || (d.getDay() === 1 && (every === 7 || Math.round((t - from) / DAY) % 14 < 7)))
      out.push({ at: t, label: formatDay(t) });
  }
  return out;
}

const Row = memo(function Row(props: {
  row: AvailabilityRow;
  stretches: Stretch[];
  from: number;
  to: number;
  rowIndex: number;
  /** The stretch holding the grid's one tab stop, -1 when in another row. */
  activeCol: number;
  onBook: (row: AvailabilityRow, s: Stretch) => void;
}) {
  const { row, from, to } = props;
  const span = to - from;
  const f = row.flavor;
  return (
    <div role="row" aria-label={f.name} class="tl-row" aria-rowindex={props.rowIndex + 2}>
      <div role="rowheader" class="tl-head">
        <span class="tl-name">{f.name}</span>
        <span class="tl-specs">
          {f.vcpu} vCPU · {Math.round(f.memory_mb / 1024)} GB · {row.slots} slots
        </span>
      </div>
      <div role="gridcell" class="tl-track">
        {props.stretches.map((s, i) => {
          const level = levelOf(s, row.slots);
          const activeHere = props.activeCol === i;
          const label = stretchLabel(f, s, row.slots);
          // The count is written inside stretches wide enough to hold it (part of the name, as axe requires).
          const wide = (s.end - s.start) / span > 0.11;
          return (
            <button
              type="button"
              key={s.start}
              class={`tl-s lv-${level}`}
              data-r={props.rowIndex}
              data-c={i}
              tabIndex={activeHere ? 0 : -1}
              aria-label={label}
              aria-disabled={s.free <= 0 ? 'true' : undefined}
              style={{ left: `${((s.start - from) / span) * 100}%`, width: `${((s.end - s.start) / span) * 100}%` }}
              onClick={() => s.free > 0 && props.onBook(row, s)}
            >
              {wide ? freeText(s, row.slots) : null}
            </button>
          );
        })}
      </div>
    </div>
  );
});

export function Timeline(props: {
  rows: AvailabilityRow[];
  from: number;
  to: number;
  windows: MaintenanceWindow[];
  onBook: (row: AvailabilityRow, s: Stretch) => void;
}) {
  const { rows, from, to } = props;
  const [active, setActive] = useState({ row: 0, col: 0 });
  const [hover, setHover] = useState<string | null>(null);
  const grid = useRef<HTMLDivElement>(null);
  // About 8 px on a wide screen: narrower stretches can hardly be seen or pointed at.
  const minWidth = (to - from) / 140;

  const all = useMemo(
    () =>
      rows.map((r) => {
        const wins = props.windows
          .filter((w) => w.flavors.some((f) => f.id === r.flavor.id))
          .map((w) => ({ start: Date.parse(w.start), end: Date.parse(w.end) }));
        return stretchesOf(r, from, to, minWidth, wins);
      }),
    [rows, from, to, props.windows],
  );
  const tickList = useMemo(() => ticks(from, to), [from, to]);

  const focusCell = (row: number, col: number) => {
    const r = Math.max(0, Math.min(rows.length - 1, row));
    const list = all[r] ?? [];
    const c = Math.max(0, Math.min(list.length - 1, col));
    setActive({ row: r, col: c });
    // Focus at once (every stretch is already a button): a focus deferred to the next frame let a
    // Tab pressed in between land on the new tab stop inside the grid instead of leaving it.
    grid.current?.querySelector<HTMLButtonElement>(`button[data-r="${r}"][data-c="${c}"]`)?.focus();
  };

  /** The stretch of another row at the same moment as the focused one. */
  const sameTime = (toRow: number): number => {
    const cur = all[active.row]?.[active.col];
    const list = all[toRow] ?? [];
    if (!cur) return 0;
    const mid = (cur.start + cur.end) / 2;
    const i = list.findIndex((s) => s.end > mid);
    return i < 0 ? list.length - 1 : i;
  };

  const onKey = (e: KeyboardEvent) => {
    const t = e.target as HTMLElement;
    if (!t.dataset.r) return;
    const r = Number(t.dataset.r);
    const c = Number(t.dataset.c);
    const moves: Record<string, () => void> = {
      ArrowRight: () => focusCell(r, c + 1),
      ArrowLeft: () => focusCell(r, c - 1),
      ArrowDown: () => focusCell(r + 1, sameTime(Math.min(rows.length - 1, r + 1))),
      ArrowUp: () => focusCell(r - 1, sameTime(Math.max(0, r - 1))),
      Home: () => focusCell(r, 0),
      End: () => focusCell(r, Number.MAX_SAFE_INTEGER),
    };
    const move = moves[e.key];
    if (move) {
      e.preventDefault();
      move();
    }
  };

  const describe = (e: Event) => {
    const t = e.target as HTMLElement;
    if (t.dataset.r === undefined) return;
    const r = Number(t.dataset.r);
    const c = Number(t.dataset.c);
    const row = rows[r];
    const s = all[r]?.[c];
    if (row && s) setHover(`${stretchLabel(row.flavor, s, row.slots)} (UTC: ${formatUtc(s.start)} to ${formatUtc(s.end)})`);
    if (e.type === 'focusin') setActive({ row: r, col: c });
  };

  return (
    <div class="timeline">
      <div
        role="grid"
        aria-label="Availability"
        aria-rowcount={rows.length + 1}
        aria-describedby="tl-help"
        class="tl-grid"
        ref={grid}
        onKeyDown={onKey}
        onFocusIn={describe}
        onMouseOver={describe}
      >
        <div role="row" class="tl-row tl-axis" aria-rowindex={1}>
          <div role="columnheader" class="tl-head">
            Flavor
          </div>
          <div role="columnheader" class="tl-track" aria-label={`Free slots from ${formatLocal(from)} to ${formatLocal(to)}`}>
            {tickList.map((t) => (
              <span key={t.at} class="tl-tick" aria-hidden="true" style={{ left: `${((t.at - from) / (to - from)) * 100}%` }}>
                {t.label}
              </span>
            ))}
          </div>
        </div>
        {rows.map((row, i) => (
          <Row
            key={row.flavor.id}
            row={row}
            stretches={all[i] ?? []}
            from={from}
            to={to}
            rowIndex={i}
            activeCol={active.row === i ? Math.min(active.col, (all[i]?.length ?? 1) - 1) : -1}
            onBook={props.onBook}
          />
        ))}
      </div>
      <p id="tl-help" class="hint">
        Use the arrow keys to move between stretches and flavors; Enter books a stretch with free slots.
      </p>
      <p class="tl-readout" aria-live="polite">
        {hover ?? 'Hover or focus a stretch to see its dates and free slots.'}
      </p>
    </div>
  );
}

export function Legend() {
  const levels: Level[] = ['all', 'most', 'some', 'none', 'maintenance'];
  return (
    <ul class="legend" aria-label="Legend">
      {levels.map((l) => (
        <li key={l}>
          <span class={`swatch lv-${l}`} aria-hidden="true" />
          {LEVEL_TEXT[l]}
        </li>
      ))}
    </ul>
  );
}
