/**
 * Structured logging on pino, as the Fastify ecosystem logs: one JSON object per line with pino's numeric
 * levels (20 debug, 30 info, 40 warn, 50 error), child loggers that carry their bindings, credentials
 * redacted, and human-readable lines through pino-pretty when asked for (`log.pretty`, `--pretty`).
 *
 * pino replaced a small JSON-lines logger of our own: it costs the gateway no more per handshake, and its
 * own CPU for a connection's two lines (`websocket opened`, `websocket closed`) is about half (5.3 → 2.7 µs;
 * docs/reference.md, "Logs", has the measurements and the commands).
 */
import { closeSync, openSync } from 'node:fs';
import { isatty } from 'node:tty';
import { pino, type DestinationStream } from 'pino';
import { checkLogFilePath, logFileError } from './log-file.js';
import { prettifier } from './pretty.js';

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
  /**
   * Opens the log file again at its path, after log rotation (the `wsgate` command's SIGUSR1), and returns
   * the path. Present on a logger made by `createLogger({ file })` and on its children; stdout needs none.
   * @throws WsgateError `WSGATE_LOG_FILE` when the path cannot be opened; the file in use stays in use.
   */
  reopen?(): string;
}

/** What `createLogger` returns: a `Logger`, and the same destination at another level. */
export interface RootLogger extends Logger {
  /** A logger on this one's destination with its own level (the `wsgate` command's start and stop lines). */
  atLevel(level: LogLevel): Logger;
}

export interface LoggerOptions {
  /** Default `info`. */
  level?: LogLevel;
  /** Append lines to this file (made if missing; its folder must exist); `reopen()` opens it again. */
  file?: string;
  /** Without `file` or `write`, the file descriptor lines go to: 2 (stderr) by default; the command uses 1. */
  fd?: number;
  /** Hand each line (ending in `\n`) to this function instead: tests capture lines so. */
  write?: (line: string) => void;
  /** Human-readable lines through pino-pretty, an optional peer dependency loaded only then. */
  pretty?: boolean;
}

/** The former name of `LoggerOptions`. */
export type JsonLoggerOptions = LoggerOptions;

/**
 * Where credentials sit in what the gateway and scripts log: a request's header map, logged as `headers`
 * or `req.headers`, and a `token`. Exact paths only: a leading wildcard (`*.token`) makes pino copy every
 * line's fields, which doubled the logger's own CPU (2.2 → 4.4 µs for a connection's two lines).
 */
export const REDACTED_PATHS: readonly string[] = [
  'headers.authorization',
  'headers["proxy-authorization"]',
  'headers.cookie',
  'headers["set-cookie"]',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["set-cookie"]',
  'token',
];

/**
 * A pino logger at `options.level`, writing JSON lines (or pretty ones) synchronously, as the logger it
 * replaced did: a line is out before the call returns, so none is lost when the process exits.
 * @throws WsgateError `WSGATE_LOG_FILE` when `file` cannot be opened, `WSGATE_CONFIG_INVALID` when `pretty`
 * is asked for and pino-pretty is not installed.
 */
export function createLogger(options: LoggerOptions = {}, bindings?: LogFields): RootLogger {
  const { stream, reopen, tty } = destination(options);
  let out: DestinationStream = stream;
  if (options.pretty) {
    const prettify = prettifier(tty);
    out = { write: (line: string) => void stream.write(prettify(line)) };
  }
  const root = pino({ level: options.level ?? 'info', redact: [...REDACTED_PATHS] }, out);
  // pino makes a child with Object.create(parent): what is defined on the root, its children have too.
  Object.defineProperty(root, 'atLevel', { value: atLevel });
  if (reopen) Object.defineProperty(root, 'reopen', { value: reopen });
  return (bindings ? root.child(bindings) : root) as unknown as RootLogger;
}

function atLevel(this: ReturnType<typeof pino>, level: LogLevel): Logger {
  return this.child({}, { level });
}

interface Destination {
  stream: DestinationStream;
  reopen?: () => string;
  /** A terminal, where pretty lines may have colours. */
  tty: boolean;
}

function destination(options: LoggerOptions): Destination {
  if (options.write) {
    const write = options.write;
    return { stream: { write }, tty: false };
  }
  if (options.file === undefined) {
    const fd = options.fd ?? 2;
    return { stream: pino.destination({ dest: fd, sync: true }), tty: isatty(fd) };
  }
  const file = options.file;
  const open = (run: () => void) => {
    try {
      // Tried first, so that a path that cannot be opened leaves pino's stream as it was.
      closeSync(openSync(file, 'a', 0o644));
      run();
    } catch (err) {
      throw logFileError('log.file', file, err);
    }
  };
  let boom!: ReturnType<typeof pino.destination>;
  open(() => (boom = pino.destination({ dest: file, sync: true, append: true, mkdir: false })));
  // A write that fails (a full disk) is said once on stderr, not thrown into the code that logged.
  let said = '';
  boom.on('error', (err: NodeJS.ErrnoException) => {
    if (said === err.code) return;
    said = err.code ?? err.message;
    process.stderr.write(`wsgate: log file ${file}: ${err.message}\n`);
  });
  return {
    stream: boom,
    reopen: () => {
      said = '';
      open(() => boom.reopen());
      return file;
    },
    tty: false,
  };
}

/**
 * What a start would say of these settings (`wsgate check`): pino-pretty missing, a file that cannot be
 * opened. Creates no file.
 */
export async function checkLogSettings(log: LoggerOptions): Promise<void> {
  if (log.pretty) prettifier(false);
  const file = log.file;
  if (file === undefined) return;
  await checkLogFilePath('log.file', file);
}

/** A logger that drops everything (tests, embedding apps that log elsewhere). */
export const silentLogger: Logger = createLogger({ level: 'silent', write: () => {} });
