/**
 * The one logger interface the layers below the CLI take (pino's shape: an object of fields,
 * then the message, or the message alone). The CLI passes its pino logger; tests pass a
 * silent one.
 */
export type LogFn = (objOrMsg: object | string, msg?: string) => void;

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export const SILENT_LOGGER: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});
