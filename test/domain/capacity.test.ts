import { describe, expect, it } from 'vitest';
import { type CapacityFlavor, fitsWindow, freeSlots, type Occupant, type Slot } from '../../src/domain/capacity.js';

/** UTC time from a short ISO string without offset, e.g. "2021-02-01" or "2021-02-01T10:00:30". */
function at(iso: string): number {
  const full = iso.length === 10 ? `${iso}T00:00:00` : iso.length === 16 ? `${iso}:00` : iso;
  return Date.parse(`${full}Z`);
}

/** Slots as readable "start/end" strings (seconds kept). */
function show(slots: Slot[]): string[] {
  const fmt = (t: number) => new Date(t).toISOString().slice(0, 19);
  return slots.map((s) => `${fmt(s.start)}/${fmt(s.end)}`);
}

function flavor(over: Partial<CapacityFlavor> = {}): CapacityFlavor {
  return { active: true, slots: 1, start: null, end: null, ...over };
}

function occ(start: string, end: string, count = 1): Occupant {
  return { start: at(start), end: at(end), count };
}

const NOW = at('2020-01-26');
const YEAR_START = '2021-01-01';
const YEAR_END = '2022-01-01';

interface Case {
  name: string;
  flavor?: Partial<CapacityFlavor>;
  occupants: Occupant[];
  start?: string;
  end?: string;
  now?: string;
  k?: number;
  expected: string[];
}

const cases: Case[] = [
  {
    name: 'no reservations: the whole window is free',
    occupants: [],
    expected: ['2021-01-01T00:00:00/2022-01-01T00:00:00'],
  },
  {
    name: 'no reservations on a two-slot flavor: one big slot',
    flavor: { slots: 2 },
    occupants: [],
    expected: ['2021-01-01T00:00:00/2022-01-01T00:00:00'],
  },
  {
    name: 'one reservation inside the window splits it in two',
    occupants: [occ('2021-02-01', '2021-03-01')],
    expected: ['2021-01-01T00:00:00/2021-01-31T23:59:00', '2021-03-01T00:01:00/2022-01-01T00:00:00'],
  },
  {
    name: 'two separate reservations give three slots',
    occupants: [occ('2021-05-01', '2021-06-01'), occ('2021-02-01', '2021-03-01')],
    expected: [
      '2021-01-01T00:00:00/2021-01-31T23:59:00',
      '2021-03-01T00:01:00/2021-04-30T23:59:00',
      '2021-06-01T00:01:00/2022-01-01T00:00:00',
    ],
  },
  {
    name: 'reservation starting at the window start: free from one minute after it ends',
    occupants: [occ('2021-01-01', '2021-02-01')],
    expected: ['2021-02-01T00:01:00/2022-01-01T00:00:00'],
  },
  {
    name: 'reservation ending exactly at the window start: the window start stays free',
    occupants: [occ('2020-12-01', '2021-01-01')],
    expected: ['2021-01-01T00:00:00/2022-01-01T00:00:00'],
  },
  {
    name: 'reservation running past the window start (historical "overlapping" case)',
    occupants: [occ('2021-02-01', '2021-10-01')],
    start: '2021-05-01',
    expected: ['2021-10-01T00:01:00/2022-01-01T00:00:00'],
  },
  {
    name: 'reservation running past the window end',
    occupants: [occ('2021-12-01', '2022-02-01')],
    expected: ['2021-01-01T00:00:00/2021-11-30T23:59:00'],
  },
  {
    name: 'reservation starting exactly at the window end takes the last minute',
    occupants: [occ('2022-01-01', '2022-01-05')],
    expected: ['2021-01-01T00:00:00/2021-12-31T23:59:00'],
  },
  {
    name: 'reservation covering the whole window: nothing free',
    occupants: [occ('2020-12-01', '2022-02-01')],
    expected: [],
  },
  {
    name: 'window inside a reservation ("shorter"): nothing free',
    occupants: [occ('2021-02-01', '2021-10-01')],
    start: '2021-05-01',
    end: '2021-09-01',
    expected: [],
  },
  {
    name: 'occupants entirely outside the window are ignored',
    occupants: [occ('2020-06-01', '2020-07-01'), occ('2022-03-01', '2022-04-01')],
    expected: ['2021-01-01T00:00:00/2022-01-01T00:00:00'],
  },
  {
    name: 'adjacent reservations on one slot form one busy stretch',
    occupants: [occ('2021-02-01', '2021-03-01'), occ('2021-03-01', '2021-04-01')],
    expected: ['2021-01-01T00:00:00/2021-01-31T23:59:00', '2021-04-01T00:01:00/2022-01-01T00:00:00'],
  },
  {
    name: 'adjacent reservations on two slots never overlap (ends before starts)',
    flavor: { slots: 2 },
    occupants: [occ('2021-03-01', '2021-04-01'), occ('2021-02-01', '2021-03-01')],
    expected: ['2021-01-01T00:00:00/2022-01-01T00:00:00'],
  },
  {
    name: 'two slots, one reservation: still one big slot',
    flavor: { slots: 2 },
    occupants: [occ('2021-02-01', '2021-03-01')],
    expected: ['2021-01-01T00:00:00/2022-01-01T00:00:00'],
  },
  {
    name: 'two slots, overlapping reservations: busy only where both run',
    flavor: { slots: 2 },
    occupants: [occ('2021-02-01', '2021-03-01'), occ('2021-02-10', '2021-03-10')],
    expected: ['2021-01-01T00:00:00/2021-02-09T23:59:00', '2021-03-01T00:01:00/2022-01-01T00:00:00'],
  },
  {
    name: 'two slots, overlapping within one day (hours)',
    flavor: { slots: 2 },
    occupants: [occ('2021-02-01T11:00', '2021-02-01T20:00'), occ('2021-02-01T16:00', '2021-02-01T22:00')],
    start: '2021-02-01',
    end: '2022-02-02',
    expected: ['2021-02-01T00:00:00/2021-02-01T15:59:00', '2021-02-01T20:01:00/2022-02-02T00:00:00'],
  },
  {
    name: 'two slots, nested reservations: busy over the inner one',
    flavor: { slots: 2 },
    occupants: [occ('2021-02-01', '2021-06-01'), occ('2021-03-01', '2021-04-01')],
    expected: ['2021-01-01T00:00:00/2021-02-28T23:59:00', '2021-04-01T00:01:00/2022-01-01T00:00:00'],
  },
  {
    name: 'one slot, overlapping reservations merge into one busy stretch',
    occupants: [occ('2021-02-01', '2021-03-10'), occ('2021-03-01', '2021-04-01')],
    expected: ['2021-01-01T00:00:00/2021-01-31T23:59:00', '2021-04-01T00:01:00/2022-01-01T00:00:00'],
  },
  {
    name: 'three slots, busy only while three overlap',
    flavor: { slots: 3 },
    occupants: [
      occ('2021-02-01', '2021-05-01'),
      occ('2021-03-01', '2021-06-01'),
      occ('2021-04-01', '2021-07-01'),
      occ('2021-08-01', '2021-09-01'),
    ],
    expected: ['2021-01-01T00:00:00/2021-03-31T23:59:00', '2021-05-01T00:01:00/2022-01-01T00:00:00'],
  },
  {
    name: 'instance_count occupies several slots (5 slots: 3 + 2 overlap)',
    flavor: { slots: 5 },
    occupants: [occ('2021-02-12', '2021-02-20', 3), occ('2021-02-17', '2021-02-27', 2), occ('2021-02-22', '2021-02-28', 1)],
    expected: ['2021-01-01T00:00:00/2021-02-16T23:59:00', '2021-02-20T00:01:00/2022-01-01T00:00:00'],
  },
  {
    name: 'instance_count equal to the slots makes the flavor busy alone',
    flavor: { slots: 5 },
    occupants: [occ('2021-02-01', '2021-03-01', 5)],
    expected: ['2021-01-01T00:00:00/2021-01-31T23:59:00', '2021-03-01T00:01:00/2022-01-01T00:00:00'],
  },
  // Gaps between busy stretches: a free slot appears only for more than 60 s.
  {
    name: 'gap of exactly 60 s: no slot in between',
    occupants: [occ('2021-02-01T10:00', '2021-02-01T11:00'), occ('2021-02-01T11:01', '2021-02-01T12:00')],
    start: '2021-02-01T09:00',
    end: '2021-02-01T13:00',
    expected: ['2021-02-01T09:00:00/2021-02-01T09:59:00', '2021-02-01T12:01:00/2021-02-01T13:00:00'],
  },
  {
    name: 'gap of 59 s: no slot in between',
    occupants: [occ('2021-02-01T10:00', '2021-02-01T11:00'), occ('2021-02-01T11:00:59', '2021-02-01T12:00')],
    start: '2021-02-01T09:00',
    end: '2021-02-01T13:00',
    expected: ['2021-02-01T09:00:00/2021-02-01T09:59:00', '2021-02-01T12:01:00/2021-02-01T13:00:00'],
  },
  {
    name: 'gap of 61 s: a one-minute slot (end truncated to the minute)',
    occupants: [occ('2021-02-01T10:00', '2021-02-01T11:00'), occ('2021-02-01T11:01:01', '2021-02-01T12:00')],
    start: '2021-02-01T09:00',
    end: '2021-02-01T13:00',
    expected: [
      '2021-02-01T09:00:00/2021-02-01T09:59:00',
      '2021-02-01T11:01:00/2021-02-01T11:01:00',
      '2021-02-01T12:01:00/2021-02-01T13:00:00',
    ],
  },
  {
    name: 'gap of 2 minutes: a one-minute slot',
    occupants: [occ('2021-02-01T10:00', '2021-02-01T11:00'), occ('2021-02-01T11:02', '2021-02-01T12:00')],
    start: '2021-02-01T09:00',
    end: '2021-02-01T13:00',
    expected: [
      '2021-02-01T09:00:00/2021-02-01T09:59:00',
      '2021-02-01T11:01:00/2021-02-01T11:01:00',
      '2021-02-01T12:01:00/2021-02-01T13:00:00',
    ],
  },
  {
    name: 'gap of 60 s after the window start: no slot before the busy stretch',
    occupants: [occ('2021-02-01T09:01', '2021-02-01T10:00')],
    start: '2021-02-01T09:00',
    end: '2021-02-01T13:00',
    expected: ['2021-02-01T10:01:00/2021-02-01T13:00:00'],
  },
  {
    name: 'busy stretch ending 30 s before the window end (odd seconds): the historical +1 minute is kept',
    occupants: [occ('2021-02-01T10:00', '2021-02-01T12:59:30')],
    start: '2021-02-01T09:00',
    end: '2021-02-01T13:00',
    expected: ['2021-02-01T09:00:00/2021-02-01T09:59:00', '2021-02-01T13:00:30/2021-02-01T13:00:00'],
  },
  {
    name: 'window start with seconds (now) inside a busy stretch',
    occupants: [occ('2021-02-01T09:00', '2021-02-01T11:00')],
    start: '2021-02-01T10:00:30',
    end: '2021-02-01T13:00',
    expected: ['2021-02-01T11:01:00/2021-02-01T13:00:00'],
  },
  {
    name: 'window start with seconds before a busy stretch keeps its seconds',
    occupants: [occ('2021-02-01T11:00', '2021-02-01T12:00')],
    start: '2021-02-01T10:00:30',
    end: '2021-02-01T13:00',
    expected: ['2021-02-01T10:00:30/2021-02-01T10:59:00', '2021-02-01T12:01:00/2021-02-01T13:00:00'],
  },
  // Maintenance windows occupy every slot (count = flavor.slots).
  {
    name: 'maintenance window over the whole window: nothing free',
    occupants: [occ('2021-01-01', '2022-01-01')],
    expected: [],
  },
  {
    name: 'maintenance window splits the free time',
    occupants: [occ('2021-05-01', '2021-06-01')],
    expected: ['2021-01-01T00:00:00/2021-04-30T23:59:00', '2021-06-01T00:01:00/2022-01-01T00:00:00'],
  },
  {
    name: 'maintenance window blocks both slots of a two-slot flavor',
    flavor: { slots: 2 },
    occupants: [occ('2021-02-01', '2021-03-01', 2)],
    expected: ['2021-01-01T00:00:00/2021-01-31T23:59:00', '2021-03-01T00:01:00/2022-01-01T00:00:00'],
  },
  {
    name: 'maintenance window plus a reservation on the same stretch (two slots)',
    flavor: { slots: 2 },
    occupants: [occ('2021-02-01', '2021-03-01', 1), occ('2021-02-01', '2021-03-01', 2)],
    expected: ['2021-01-01T00:00:00/2021-01-31T23:59:00', '2021-03-01T00:01:00/2022-01-01T00:00:00'],
  },
  {
    name: 'maintenance window and a reservation on one slot',
    occupants: [occ('2021-02-01', '2021-03-01'), occ('2021-05-01', '2021-06-01')],
    expected: [
      '2021-01-01T00:00:00/2021-01-31T23:59:00',
      '2021-03-01T00:01:00/2021-04-30T23:59:00',
      '2021-06-01T00:01:00/2022-01-01T00:00:00',
    ],
  },
  // Flavor availability.
  {
    name: 'flavor start/end clamp the window',
    flavor: { start: at('2021-01-10'), end: at('2021-01-20') },
    occupants: [],
    start: '2021-01-01',
    end: '2022-03-01',
    expected: ['2021-01-10T00:00:00/2021-01-20T00:00:00'],
  },
  {
    name: 'occupants outside the clamped window are ignored',
    flavor: { start: at('2021-03-01'), end: at('2021-04-01') },
    occupants: [occ('2021-02-01', '2021-02-20'), occ('2021-05-01', '2021-06-01')],
    expected: ['2021-03-01T00:00:00/2021-04-01T00:00:00'],
  },
  {
    name: 'a reservation inside the clamped window',
    flavor: { start: at('2021-03-01'), end: at('2021-04-01') },
    occupants: [occ('2021-03-10', '2021-03-20')],
    expected: ['2021-03-01T00:00:00/2021-03-09T23:59:00', '2021-03-20T00:01:00/2021-04-01T00:00:00'],
  },
  {
    name: 'inactive flavor: nothing',
    flavor: { active: false },
    occupants: [],
    expected: [],
  },
  {
    name: 'flavor end already in the past: nothing',
    flavor: { end: at('2021-05-01') },
    occupants: [],
    now: '2021-06-01',
    expected: [],
  },
  {
    name: 'flavor end exactly now is not in the past',
    flavor: { end: at('2021-05-01') },
    occupants: [],
    start: '2021-04-01',
    now: '2021-05-01',
    expected: ['2021-04-01T00:00:00/2021-05-01T00:00:00'],
  },
  {
    name: 'window entirely before the flavor start: nothing (not a reversed slot)',
    flavor: { start: at('2023-01-01') },
    occupants: [],
    expected: [],
  },
  // instance_count > 1: a segment is busy when fewer than k slots are free.
  {
    name: 'k=2 on three slots with two taken: busy there',
    flavor: { slots: 3 },
    occupants: [occ('2021-02-01', '2021-03-01', 2)],
    k: 2,
    expected: ['2021-01-01T00:00:00/2021-01-31T23:59:00', '2021-03-01T00:01:00/2022-01-01T00:00:00'],
  },
  {
    name: 'k=2 on three slots with one taken: all free',
    flavor: { slots: 3 },
    occupants: [occ('2021-02-01', '2021-03-01', 1)],
    k: 2,
    expected: ['2021-01-01T00:00:00/2022-01-01T00:00:00'],
  },
  {
    name: 'k larger than the flavor slots: nothing',
    flavor: { slots: 2 },
    occupants: [],
    k: 3,
    expected: [],
  },
];

describe('freeSlots', () => {
  it.each(cases)('$name', (c) => {
    const result = freeSlots(
      flavor(c.flavor),
      at(c.start ?? YEAR_START),
      at(c.end ?? YEAR_END),
      c.occupants,
      c.now === undefined ? NOW : at(c.now),
      c.k,
    );
    expect(show(result)).toEqual(c.expected);
  });

  it('does not depend on the order of the occupants', () => {
    const occupants = [
      occ('2021-05-01', '2021-06-01'),
      occ('2021-02-10', '2021-03-10'),
      occ('2021-02-01', '2021-03-01'),
      occ('2021-05-15', '2021-07-01'),
    ];
    const f = flavor({ slots: 2 });
    const forward = freeSlots(f, at(YEAR_START), at(YEAR_END), occupants, NOW);
    const backward = freeSlots(f, at(YEAR_START), at(YEAR_END), [...occupants].reverse(), NOW);
    expect(backward).toEqual(forward);
    expect(show(forward)).toEqual([
      '2021-01-01T00:00:00/2021-02-09T23:59:00',
      '2021-03-01T00:01:00/2021-05-14T23:59:00',
      '2021-06-01T00:01:00/2022-01-01T00:00:00',
    ]);
  });

  it('handles a window to year 9999 on a large flavor (counts beyond the packed key)', () => {
    const f = flavor({ slots: 1_000_000 });
    const occupants = [occ('2021-02-01', '2021-03-01', 1_000_000), occ('2500-01-01', '2600-01-01', 999_999)];
    const start = at('2021-01-01T10:00:30');
    const end = at('9999-12-31');
    expect(show(freeSlots(f, start, end, occupants, NOW))).toEqual([
      '2021-01-01T10:00:30/2021-01-31T23:59:00',
      '2021-03-01T00:01:00/9999-12-31T00:00:00',
    ]);
    expect(show(freeSlots(f, start, end, occupants, NOW, 2))).toEqual([
      '2021-01-01T10:00:30/2021-01-31T23:59:00',
      '2021-03-01T00:01:00/2499-12-31T23:59:00',
      '2600-01-01T00:01:00/9999-12-31T00:00:00',
    ]);
  });

  it('handles times with fractions of a millisecond', () => {
    const occupants = [{ start: at('2021-02-01') + 0.5, end: at('2021-03-01') + 0.5, count: 1 }];
    expect(freeSlots(flavor(), at(YEAR_START) + 0.25, at(YEAR_END), occupants, NOW)).toEqual([
      { start: at(YEAR_START) + 0.25, end: at('2021-01-31T23:59') },
      { start: at('2021-03-01T00:01') + 0.5, end: at(YEAR_END) },
    ]);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects instanceCount %s', (k) => {
    expect(() => freeSlots(flavor(), at(YEAR_START), at(YEAR_END), [], NOW, k)).toThrow(/instanceCount must be an integer >= 1/);
  });
});

interface FitCase {
  name: string;
  flavor?: Partial<CapacityFlavor>;
  occupants: Occupant[];
  start: string;
  end: string;
  k?: number;
  fits: boolean;
}

const fitCases: FitCase[] = [
  {
    name: 'empty flavor',
    occupants: [],
    start: '2021-01-01',
    end: '2021-01-02',
    fits: true,
  },
  {
    name: "same window as the only slot's reservation",
    occupants: [occ('2020-01-01', '2020-01-02')],
    start: '2020-01-01',
    end: '2020-01-02',
    fits: false,
  },
  {
    name: 'five-instance reservation fills a five-slot flavor',
    flavor: { slots: 5 },
    occupants: [occ('2020-01-01', '2020-01-02', 5)],
    start: '2020-01-01',
    end: '2020-01-02',
    fits: false,
  },
  {
    name: 'two-slot flavor with two touching reservations fits one more across both',
    flavor: { slots: 2 },
    occupants: [occ('2020-01-01', '2020-01-02'), occ('2020-01-02', '2020-01-03')],
    start: '2020-01-01',
    end: '2020-01-03',
    fits: true,
  },
  {
    name: 'touching the end of an existing reservation on one slot',
    occupants: [occ('2021-01-01', '2021-01-02')],
    start: '2021-01-02',
    end: '2021-01-03',
    fits: true,
  },
  {
    name: 'touching the start of an existing reservation on one slot',
    occupants: [occ('2021-01-03', '2021-01-04')],
    start: '2021-01-02',
    end: '2021-01-03',
    fits: false,
  },
  {
    name: 'extension (old end → new end) before a later reservation',
    occupants: [occ('2021-01-05', '2021-01-07')],
    start: '2021-01-02',
    end: '2021-01-03',
    fits: true,
  },
  ...['2021-01-05', '2021-01-06', '2021-01-07'].map((end) => ({
    name: `extension to ${end} runs into a reservation from 2021-01-04`,
    occupants: [occ('2021-01-04', '2021-01-05')],
    start: '2021-01-02',
    end,
    fits: false,
  })),
  {
    name: 'extension beyond the flavor end',
    flavor: { end: at('2021-01-05') },
    occupants: [],
    start: '2021-01-02',
    end: '2021-01-06',
    fits: false,
  },
  {
    name: 'request before the flavor start',
    flavor: { start: at('2021-01-05') },
    occupants: [],
    start: '2021-01-02',
    end: '2021-01-06',
    fits: false,
  },
  {
    name: 'existing reservation on the only slot (maintenance bypassed by the caller)',
    occupants: [occ('2021-01-03', '2021-01-05')],
    start: '2021-01-03',
    end: '2021-01-05',
    fits: false,
  },
  {
    name: 'maintenance window overlapping the request',
    flavor: { slots: 3 },
    occupants: [occ('2021-01-04', '2021-01-06', 3)],
    start: '2021-01-01',
    end: '2021-01-05',
    fits: false,
  },
  {
    name: 'k=3 with one free slot (docs/api.md#difference-capacity)',
    flavor: { slots: 3 },
    occupants: [occ('2021-01-01', '2021-02-01', 2)],
    start: '2021-01-10',
    end: '2021-01-11',
    k: 3,
    fits: false,
  },
  {
    name: 'k=1 with one free slot',
    flavor: { slots: 3 },
    occupants: [occ('2021-01-01', '2021-02-01', 2)],
    start: '2021-01-10',
    end: '2021-01-11',
    k: 1,
    fits: true,
  },
  {
    name: 'k=2 with exactly two free slots',
    flavor: { slots: 4 },
    occupants: [occ('2021-01-01', '2021-02-01', 1), occ('2021-01-05', '2021-01-20', 1)],
    start: '2021-01-10',
    end: '2021-01-11',
    k: 2,
    fits: true,
  },
  {
    name: 'k=2 where two free slots exist only for part of the window',
    flavor: { slots: 4 },
    occupants: [occ('2021-01-01', '2021-02-01', 2), occ('2021-01-10T12:00', '2021-01-10T13:00', 1)],
    start: '2021-01-10',
    end: '2021-01-11',
    k: 2,
    fits: false,
  },
  {
    name: 'k=2 touching a full stretch at both ends',
    flavor: { slots: 2 },
    occupants: [occ('2021-01-09', '2021-01-10', 2), occ('2021-01-11', '2021-01-12', 1)],
    start: '2021-01-10',
    end: '2021-01-11',
    k: 2,
    fits: false,
  },
  {
    name: 'k=2 touching a full stretch at its start only',
    flavor: { slots: 2 },
    occupants: [occ('2021-01-09', '2021-01-10', 2), occ('2021-01-12', '2021-01-13', 1)],
    start: '2021-01-10',
    end: '2021-01-11',
    k: 2,
    fits: true,
  },
  {
    name: 'k larger than the flavor slots',
    flavor: { slots: 2 },
    occupants: [],
    start: '2021-01-10',
    end: '2021-01-11',
    k: 3,
    fits: false,
  },
  {
    name: 'inactive flavor',
    flavor: { active: false },
    occupants: [],
    start: '2021-01-10',
    end: '2021-01-11',
    fits: false,
  },
];

describe('fitsWindow', () => {
  it.each(fitCases)('$name → $fits', (c) => {
    expect(fitsWindow(flavor(c.flavor), at(c.start), at(c.end), c.occupants, NOW, c.k)).toBe(c.fits);
  });
});
