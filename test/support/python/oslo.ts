/**
 * Running the Python helper scripts of this folder with Debian's oslo.messaging
 * (`/usr/bin/python3`, not the pyenv python first on PATH).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const PYTHON = '/usr/bin/python3';
export const SCRIPTS = dirname(fileURLToPath(import.meta.url));

/**
 * Make sure `/usr/bin/python3 -c <imports>` works, installing the Debian
 * `packages` if it does not (so `npm test` needs no manual set-up).
 */
export async function ensureDebianPython(imports: string, packages: string[]): Promise<void> {
  const ok = async (): Promise<boolean> =>
    run(PYTHON, ['-c', imports]).then(
      () => true,
      () => false,
    );
  if (await ok()) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): Promise<unknown> =>
    run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-q', '--no-install-recommends', ...packages], {
      env,
      timeout: 280_000,
    });
  try {
    await install();
  } catch {
    await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update', '-q'], { env, timeout: 280_000 });
    await install();
  }
  if (!(await ok())) throw new Error(`${packages.join(', ')} installed, but "${imports}" still fails`);
}

/** Make sure `import oslo_messaging` works, installing `python3-oslo.messaging` if needed. */
export function ensureOsloMessaging(): Promise<void> {
  return ensureDebianPython('import oslo_messaging, oslo_context', ['python3-oslo.messaging']);
}

/** Run a script to completion; rejects with its stderr on a non-zero exit. */
export async function runScript(script: string, args: string[] = [], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [join(SCRIPTS, script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${script} exited with ${code ?? signal}:\n${stderr}`));
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** A long-running script printing JSON lines (listeners, RPC server). */
export class ScriptProcess {
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private buffer = '';
  private readonly waiters: (() => void)[] = [];

  constructor(script: string, args: string[]) {
    this.child = spawn(PYTHON, [join(SCRIPTS, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (line) this.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code) => {
        for (const w of this.waiters.splice(0)) w();
        resolve(code);
      }),
    );
  }

  /** Wait until `count` lines satisfy `pred` (or the process exits / times out → throws). */
  async waitForLines(pred: (l: Record<string, unknown>) => boolean, count = 1, timeoutMs = 30_000): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const hits = this.lines.filter(pred);
      if (hits.length >= count) return hits;
      if (exited || Date.now() > deadline) {
        throw new Error(
          `Python helper: ${hits.length}/${count} expected lines${exited ? ' (it exited)' : ''}; stderr:\n${this.stderr.slice(-3000)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  ready(timeoutMs = 30_000): Promise<unknown> {
    return this.waitForLines((l) => l.ready === true, 1, timeoutMs);
  }

  /** Wait for a normal exit (the script stops after its count/timeout). */
  wait(): Promise<number | null> {
    return this.exited;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
