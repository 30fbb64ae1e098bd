/** Logs what the operator should know about the loaded configuration, once at start-up. */
import type { Logger } from 'pino';
import type { WarreConfig } from '../config/load.js';

export function logConfigNotes(config: WarreConfig, log: Logger): void {
  log.info({ config: config.sources.length > 0 ? config.sources : 'built-in all-in-one defaults' }, 'configuration loaded');
  for (const note of config.notes) log.warn(note);
  if (config.unknownOptions.length > 0) log.debug({ options: config.unknownOptions }, 'options Warre does not use (ignored)');
}
