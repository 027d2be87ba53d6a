/** Structured logging: one JSON object per line on stdout, which Lambda ships to CloudWatch Logs as is. */

/** Structural: the Powertools Logger, `jsonLogger()` and test recorders all fit. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Anything with a `write` taking a string: `process.stdout`, a test buffer. */
export interface Writer {
  write(chunk: string): unknown;
}

/**
 * One JSON object per line: `{"type"?, "level", "message", ...fields}`.
 *
 * @example
 * const logger = jsonLogger(); // writes to stdout, which Lambda ships to CloudWatch Logs
 * logger.error('alert not delivered', { type: 'codecommit-canary/undelivered-alert', alert });
 */
export function jsonLogger(writer: Writer = process.stdout): Logger {
  const log =
    (level: 'info' | 'warn' | 'error') =>
    (message: string, fields: Record<string, unknown> = {}) => {
      const head = typeof fields.type === 'string' ? { type: fields.type } : {};
      writer.write(`${JSON.stringify({ ...head, level, message, ...fields })}\n`);
    };
  return { info: log('info'), warn: log('warn'), error: log('error') };
}
