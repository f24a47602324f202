/** Structured logging: one JSON object per line. The shape matches pino's, so pino can be passed in instead. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(fields: LogFields, msg?: string): void;
  info(fields: LogFields, msg?: string): void;
  warn(fields: LogFields, msg?: string): void;
  error(fields: LogFields, msg?: string): void;
  /** A logger whose lines all carry `bindings`. */
  child(bindings: LogFields): Logger;
  /** Would a line at `level` be written? Lets a hot path skip building fields nobody reads (pino has it too). */
  isLevelEnabled(level: Exclude<LogLevel, 'silent'>): boolean;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface JsonLoggerOptions {
  level?: LogLevel;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
}

/** A small JSON-lines logger. Errors in fields are flattened to message and code so they survive JSON. */
export function createLogger(options: JsonLoggerOptions = {}, bindings: LogFields = {}): Logger {
  const min = rank[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const emit = (level: Exclude<LogLevel, 'silent'>, fields: LogFields, msg?: string) => {
    if (rank[level] < min) return;
    const line = { time: new Date().toISOString(), level, ...bindings, ...flatten(fields), msg };
    write(`${JSON.stringify(line)}\n`);
  };
  return {
    debug: (f, m) => emit('debug', f, m),
    info: (f, m) => emit('info', f, m),
    warn: (f, m) => emit('warn', f, m),
    error: (f, m) => emit('error', f, m),
    child: (more) => createLogger(options, { ...bindings, ...more }),
    isLevelEnabled: (level) => rank[level] >= min,
  };
}

function flatten(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? { message: v.message, code: (v as NodeJS.ErrnoException).code, stack: v.stack } : v;
  }
  return out;
}

/** A logger that drops everything (tests, embedding apps that log elsewhere). */
export const silentLogger: Logger = createLogger({ level: 'silent' });
