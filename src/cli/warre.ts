#!/usr/bin/env node
/**
 * `warre <command>`: one entry point for every component.
 *   warre all            all-in-one: API + worker + lease events + periodic tasks (npm start)
 *   warre api            the REST API (warre-api)
 *   warre worker         lease creation and periodic tasks (warre-worker)
 *   warre notification   lease events from the message bus (warre-notification)
 *   warre manage …       operator commands (warre-manage)
 */
import { CONFIG_ARGS, ConfigError, loadConfig, type WarreConfig, withoutConfigArgs } from '../config/load.js';

const USAGE = `usage: warre [--config-file FILE] [--config-dir DIR] <all|api|worker|notification|manage> [args]

Configuration: --config-file FILE and --config-dir DIR (its *.conf files), as oslo.config reads them,
else $WARRE_CONFIG_FILE, else /etc/warre/warre.conf when present,
else built-in all-in-one defaults (noauth, SQLite in ./.warre, simulated leases).
Any option can be overridden with WARRE_<SECTION>__<OPTION>, e.g. WARRE_API__PORT=9000.
`;

function load(): WarreConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`warre: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

export async function main(command: string | undefined, rest: string[]): Promise<void> {
  const args = withoutConfigArgs(rest);
  switch (command) {
    case 'all': {
      const { runAllInOne } = await import('./all.js');
      return runAllInOne(load());
    }
    case 'api': {
      const { runApi } = await import('./api.js');
      return runApi(load());
    }
    case 'worker': {
      const { runWorker } = await import('./worker.js');
      return runWorker(load());
    }
    case 'notification': {
      const { runNotification } = await import('./notification.js');
      return runNotification(load());
    }
    case 'manage': {
      const { runManage } = await import('./manage.js');
      process.exitCode = await runManage(load(), args);
      return;
    }
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(command ? `warre: unknown command "${command}"\n\n${USAGE}` : USAGE);
      process.exitCode = 2;
  }
}

/** Run as a program: the first argument that is not a configuration argument (`--config-file X`…) is the command. */
export function cli(fixedCommand?: string): void {
  const argv = process.argv.slice(2);
  let command = fixedCommand;
  let rest = argv;
  if (!command) {
    const idx = argv.findIndex((a, i) => !a.startsWith('-') && !(CONFIG_ARGS as readonly string[]).includes(argv[i - 1] ?? ''));
    command = idx >= 0 ? argv[idx] : undefined;
    rest = idx >= 0 ? [...argv.slice(0, idx), ...argv.slice(idx + 1)] : argv;
  }
  main(command, rest).catch((err: unknown) => {
    const e = err as Error;
    process.stderr.write(`warre ${command ?? ''}: ${e?.message ?? String(err)}\n`);
    if (process.env.WARRE_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    process.exit(1);
  });
}

const invokedDirectly = process.argv[1] && /[\\/]warre(\.js)?$/.test(process.argv[1]);
if (invokedDirectly) cli();
