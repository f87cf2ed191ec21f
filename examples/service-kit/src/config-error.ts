/** An environment variable is missing or malformed; `variable` names it, and main.ts prints it and exits 1. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`)
    this.name = 'ConfigError'
  }
}
