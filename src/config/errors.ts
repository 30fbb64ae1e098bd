/** A configuration problem found at start-up; the message names the option and what is accepted. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
