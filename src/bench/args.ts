/** Command-line flags of `npm run bench` (hand-parsed: five flags do not need a parser library). */

export type BenchDialect = 'sqlite' | 'mysql' | 'postgres';

export interface BenchArgs {
  /** Databases to run on, in order. */
  dbs: BenchDialect[];
  /** Seconds each load scenario is measured. */
  duration: number;
  /** The load generator: wrk (when installed, the default) or autocannon. */
  load: 'wrk' | 'autocannon' | null;
  /** `[api] workers` of the API under test. */
  workers: number;
  /** Compare each read scenario under noauth and under Keystone tokens. */
  keystone: boolean;
  /** Write a V8 CPU profile of the API process (forces workers = 1) into this directory. */
  cpuProfDir: string | null;
  /** Instead of the load run: time each step of the scenarios in-process. */
  breakdown: boolean;
  /** Run only the scenarios whose name contains this text (case-insensitive; "creates" for the creates). */
  only: string | null;
  /**
   * A checkout of earlier code (its `dist/` built): run each line against it and against this
   * code, alternately, on the same seeded database (before/after in one run).
   */
  baseline: string | null;
  /** With --baseline: how many times each before/after pair is run. */
  rounds: number;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [--db sqlite|mysql|postgres|all] [--duration N] [--workers N] [--keystone] [--cpu-prof DIR] [--only TEXT] [--breakdown]
                     [--baseline DIR [--rounds N]] [--load wrk|autocannon]

  --db         database(s) to run on (default: sqlite then mysql; "all" adds postgres)
               MariaDB at 127.0.0.1:3306 user root, PostgreSQL at 127.0.0.1:5432 user postgres
  --duration   seconds each load scenario is measured (default 10), after a 1 s warm-up
  --workers    API worker processes (default 2 = one per core of the reference machine)
  --keystone   run each read scenario against two APIs on the same seeded database,
               auth_strategy = noauth and = keystone (warm token cache), and compare;
               needs a Keystone at $OS_AUTH_URL (default http://127.0.0.1:5001/v3,
               admin password $OS_PASSWORD, default "secret"); no creates
  --cpu-prof   write a CPU profile of the API process (run with 1 worker) into DIR;
               summarise it with: node dist/bench/cpuprofile.js DIR/<file>.cpuprofile
  --only       run only the scenarios whose name contains TEXT (e.g. "flavors", "10,000",
               "creates"); with --cpu-prof, profiles one scenario at a time
  --breakdown  no server: time each step of the scenarios in-process (SQL, mapping,
               views, JSON, free-slot sweep, a create) on the seeded database
  --baseline   a checkout of earlier code with its dist/ built (e.g. a git worktree at the
               previous release, then npm run build there): on one seeded database, run every
               line against it ("before") and against this code ("after"), alternately,
               and print both with the change
  --rounds     with --baseline: before/after pairs per line (default 2)
  --load       the load generator: wrk (apt-get install wrk; the default when installed:
               it needs far less CPU per answer than autocannon on the same cores) or
               autocannon (the default otherwise)
`;

export class UsageError extends Error {}

function positiveInt(flag: string, value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`${flag} needs a positive integer, got ${JSON.stringify(value ?? '')}`);
  }
  return Number(value);
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const out: BenchArgs = {
    dbs: ['sqlite', 'mysql'],
    duration: 10,
    load: null,
    workers: 2,
    keystone: false,
    cpuProfDir: null,
    breakdown: false,
    only: null,
    baseline: null,
    rounds: 2,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string | undefined => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '--db': {
        const v = value();
        if (v === 'all') out.dbs = ['sqlite', 'mysql', 'postgres'];
        else if (v === 'sqlite' || v === 'mysql' || v === 'postgres') out.dbs = [v];
        else throw new UsageError(`--db accepts sqlite, mysql, postgres or all, got ${JSON.stringify(v ?? '')}`);
        break;
      }
      case '--duration':
        out.duration = positiveInt('--duration', value());
        break;
      case '--workers':
        out.workers = positiveInt('--workers', value());
        break;
      case '--keystone':
        out.keystone = true;
        break;
      case '--cpu-prof': {
        const v = value();
        if (!v) throw new UsageError('--cpu-prof needs a directory');
        out.cpuProfDir = v;
        break;
      }
      case '--only': {
        const v = value();
        if (!v) throw new UsageError('--only needs a piece of a scenario name');
        out.only = v.toLowerCase();
        break;
      }
      case '--breakdown':
        out.breakdown = true;
        break;
      case '--baseline': {
        const v = value();
        if (!v) throw new UsageError('--baseline needs a directory (a checkout with dist/ built)');
        out.baseline = v;
        break;
      }
      case '--load': {
        const v = value();
        if (v !== 'wrk' && v !== 'autocannon') throw new UsageError(`--load accepts wrk or autocannon, got ${JSON.stringify(v ?? '')}`);
        out.load = v;
        break;
      }
      case '--rounds':
        out.rounds = positiveInt('--rounds', value());
        break;
      case '-h':
      case '--help':
        out.help = true;
        break;
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (out.baseline !== null && (out.keystone || out.breakdown || out.cpuProfDir !== null))
    throw new UsageError('--baseline compares two load runs: it does not combine with --keystone, --breakdown or --cpu-prof');
  if (out.keystone && out.breakdown)
    throw new UsageError('--breakdown times in-process steps without HTTP or auth: it does not combine with --keystone');
  // One process, so the profile holds every request.
  if (out.cpuProfDir !== null) out.workers = 1;
  return out;
}
