/**
 * The process logger (docs/operations.md#logs): where the lines go — `log_file` and `log_dir`
 * as oslo.log reads them — and the request id on every line logged while a request is handled.
 */
import fs from 'node:fs';
import path from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import { REQUEST_ID_LOG_KEY, requestLogFields } from '../api/request-scope.js';

/** The `[DEFAULT]` options that say where logs go. */
export interface LogTarget {
  log_file: string | null;
  log_dir: string | null;
}

/**
 * The file a program logs to, as oslo.log decides it, or null for standard output:
 * `log_file` alone as it is; `log_dir` + `log_file` the file in that directory (an absolute
 * `log_file` wins, as Python's os.path.join); `log_dir` alone `<log_dir>/<program>.log`.
 */
export function logFilePath(target: LogTarget, program: string): string | null {
  const file = target.log_file || null;
  const dir = target.log_dir || null;
  if (file && dir) return path.resolve(dir, file);
  if (file) return file;
  if (dir) return path.join(dir, `${program}.log`);
  return null;
}

const { chindingsSym } = pino.symbols;

/** True when the logger was made for one request (Fastify's `req.log`): it carries the id itself. */
function boundToRequest(logger: Logger): boolean {
  const chindings = (logger as unknown as Record<symbol, unknown>)[chindingsSym];
  return typeof chindings === 'string' && chindings.includes(`"${REQUEST_ID_LOG_KEY}":`);
}

/**
 * A pino logger named after the program (the `name` field and, with `log_dir` only, the file
 * name), writing to `destination` when given (tests), else to the configured file or stdout.
 */
export function processLogger(opts: { program: string; level: string; target: LogTarget; destination?: DestinationStream }): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level,
    base: { name: opts.program },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: (_obj, _level, logger) => (boundToRequest(logger as Logger) ? {} : requestLogFields()),
  };
  if (opts.destination) return pino(options, opts.destination);
  const file = logFilePath(opts.target, opts.program);
  if (file === null) return pino(options);
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.closeSync(fs.openSync(file, 'a'));
  } catch (err) {
    const where = opts.target.log_dir ? '[DEFAULT] log_dir/log_file' : '[DEFAULT] log_file';
    throw new Error(`Cannot write the log file ${file} (${where}): ${(err as Error).message}`);
  }
  return pino(options, pino.destination({ dest: file, sync: false, mkdir: true }));
}
