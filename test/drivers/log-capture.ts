/** A pino logger whose lines are kept as objects, for asserting on what a driver logged. */
import { type Logger, pino } from 'pino';

export interface CapturedLogger {
  logger: Logger;
  lines: Record<string, unknown>[];
  /** Lines whose msg contains `text`. */
  find(text: string): Record<string, unknown>[];
}

export function captureLogger(): CapturedLogger {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines, find: (text) => lines.filter((l) => String(l['msg']).includes(text)) };
}
