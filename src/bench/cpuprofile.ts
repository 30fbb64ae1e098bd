/**
 * `node dist/bench/cpuprofile.js FILE.cpuprofile [N]`: the top N functions of
 * a V8 CPU profile (from `npm run bench -- --cpu-prof DIR`) by self and by
 * total time. Hand-written because the profile format is a small JSON tree
 * and no profile viewer is installed here.
 */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  name: string;
  selfMs: number;
  totalMs: number;
}

function label(n: ProfileNode): string {
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '~/')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
}

/** Self and total (inclusive, each function counted once per sample) time per function. */
export function summarise(p: Profile): { functions: FunctionTime[]; totalMs: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let totalMs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    let id: number | undefined = p.samples[i]!;
    const leaf = byId.get(id);
    if (!leaf) continue;
    self.set(label(leaf), (self.get(label(leaf)) ?? 0) + ms);
    const seen = new Set<string>();
    while (id !== undefined) {
      const node = byId.get(id);
      if (!node) break;
      const l = label(node);
      if (!seen.has(l)) {
        seen.add(l);
        total.set(l, (total.get(l) ?? 0) + ms);
      }
      id = parent.get(id);
    }
  }
  const functions = [...total.entries()].map(([name, totalMs]) => ({ name, selfMs: self.get(name) ?? 0, totalMs }));
  return { functions, totalMs };
}

function main(): void {
  const [file, nText] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/bench/cpuprofile.js FILE.cpuprofile [N]\n');
    process.exit(2);
  }
  const n = Number(nText ?? 30);
  process.stdout.on('error', () => process.exit(0)); // e.g. piped into head
  const { functions, totalMs } = summarise(JSON.parse(fs.readFileSync(file, 'utf8')) as Profile);
  const pct = (ms: number) => `${((100 * ms) / totalMs).toFixed(1).padStart(5)}%`;
  const print = (title: string, key: 'selfMs' | 'totalMs') => {
    process.stdout.write(`\n${title} (of ${(totalMs / 1000).toFixed(1)} s sampled)\n`);
    for (const f of [...functions].sort((a, b) => b[key] - a[key]).slice(0, n)) {
      process.stdout.write(`${pct(f[key])} ${(f[key] / 1000).toFixed(2).padStart(7)} s  ${f.name}\n`);
    }
  };
  process.stdout.write(`profile ${path.basename(file)}\n`);
  print('Self time', 'selfMs');
  print('Total time', 'totalMs');
}

if (process.argv[1] && /cpuprofile\.js$/.test(process.argv[1])) main();
