/**
 * The README's commands work as a newcomer pastes them: the first screen shows the two
 * commands (`npm install && npm start`, `npm test`), and the "Try it" blocks, pasted into an
 * interactive sh, bash and zsh (macOS's default shell: it does not split `$VAR` into words and,
 * interactively, takes no `#` comments), book what they say against `warre all` — nothing
 * GNU-only (`date -d`, `watch`). The watch loop runs once: a `sleep` first on PATH lets one
 * iteration through, then ends the loop.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, freePort, httpRequest, ROOT, startWarre, warreEnv } from './process.js';

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const MINUTE = 60_000;
const ALICE = { 'x-user-id': 'alice', 'x-project-id': 'demo' };

/** The text of the ```sh blocks of `text`, in order. */
function shBlocks(text: string): string[] {
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!.trimEnd());
}

/** The README section under `## <title>`, up to the next `## `. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  expect(start, title).toBeGreaterThan(0);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

describe('README commands', () => {
  it('the first screen shows the two commands, each alone in its block', () => {
    const firstScreen = README.split('\n').slice(0, 30).join('\n');
    expect(shBlocks(firstScreen)).toEqual(['npm install && npm start', 'npm test']);
  });

  it('no shell block needs GNU tools or takes comments (interactive zsh runs "#" as a command)', () => {
    const blocks = shBlocks(README);
    expect(blocks.length).toBeGreaterThan(5);
    for (const block of blocks) {
      expect(block, block).not.toMatch(/\bdate\s+(-d|--date)\b/);
      expect(block, block).not.toMatch(/(^|[;|&]\s*)watch\s/m);
      expect(block, block).not.toMatch(/(^|\s)#/m);
    }
  });
});

interface ShellRun {
  code: number | null;
  output: string;
}

/** Paste `script` into an interactive shell, then `exit`. */
function paste(shell: string[], script: string, env: NodeJS.ProcessEnv): Promise<ShellRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(shell[0]!, shell.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
    child.stdin.end(`${script}\nexit\n`);
  });
}

const SHELLS: { name: string; argv: string[] }[] = [
  { name: 'sh', argv: ['/bin/sh', '-i'] },
  { name: 'bash', argv: ['bash', '--norc', '--noprofile', '-i'] },
  { name: 'zsh', argv: ['zsh', '-f', '-i'] },
];

describe.each(SHELLS)('the "Try it" blocks pasted into interactive $name', ({ name, argv }) => {
  let dir: string;
  let port: number;
  let warre: ReturnType<typeof startWarre> | undefined;

  beforeAll(async () => {
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `warre-tryit-${name}-`));
    port = await freePort();
    warre = startWarre(
      ['all'],
      warreEnv({
        WARRE_API__PORT: String(port),
        WARRE_DEFAULT__AUTH_STRATEGY: 'noauth',
        WARRE_WARRE__LEASE_BACKEND: 'simulator',
        WARRE_WARRE__USER_NOTIFIER: 'logging',
      }),
      { cwd: dir },
    );
    await warre.waitFor(/Data: +\S+/);
  }, 120_000);

  afterAll(async () => {
    await warre?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('books the offer and the exact times, and the watch loop shows them', async () => {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    // `sleep` lets the watch loop through once, then ends it.
    fs.writeFileSync(path.join(bin, 'sleep'), `#!/bin/sh\n[ -e "${dir}/slept" ] && exit 1\n: > "${dir}/slept"\n`, { mode: 0o755 });
    const script = shBlocks(section('Try it')).join('\n').replaceAll('http://127.0.0.1:8787', `http://127.0.0.1:${port}`);
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    delete env.ENV; // sh -i would read it
    const before = Date.now();
    const run = await paste(argv, script, env);
    expect(run.code, run.output).toBe(0);
    expect(run.output).not.toMatch(/not found|parse error|syntax error|error_message|Traceback/i);
    expect(fs.existsSync(path.join(dir, 'slept'))).toBe(true);
    expect(run.output).toContain('"status": "');

    const list = await httpRequest(port, 'GET', '/v1/reservations/', ALICE);
    expect(list.status).toBe(200);
    const results = (list.json().results as { flavor: { name: string }; instance_count: number; start: string; end: string }[]).sort(
      (a, b) => a.instance_count - b.instance_count,
    );
    expect(results.map((r) => [r.flavor.name, r.instance_count])).toEqual([
      ['gpu.large', 1],
      ['gpu.large', 2],
    ]);
    // The exact booking: the whole minute two minutes from when the lines ran, for three
    // minutes (four when the two python3 calls straddle a minute).
    const [exact, offer] = results as [(typeof results)[0], (typeof results)[0]];
    const start = Date.parse(exact.start);
    expect(start % MINUTE).toBe(0);
    expect(start).toBeGreaterThan(before);
    expect([3 * MINUTE, 4 * MINUTE]).toContain(Date.parse(exact.end) - start);
    expect(Date.parse(offer.end) - Date.parse(offer.start)).toBe(3 * 60 * MINUTE);
  }, 180_000);
});
