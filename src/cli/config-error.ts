/** A configuration the launcher refuses: reported as one line, exit code 2. */
export class ConfigError extends Error {}
