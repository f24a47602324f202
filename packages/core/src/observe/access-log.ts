import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { WsgateError } from '../errors.js';
import { checkLogFilePath, logFileError } from './log-file.js';
import type { RequestFacts } from '../request/request-facts.js';

/** nginx's `combined` format, the default. */
export const COMBINED =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

/** One finished request, as the access log sees it. */
export interface AccessEntry {
  readonly req: RequestFacts<any>;
  readonly status: number;
  /** Bytes sent to the client: the reply's body; for a WebSocket, the payload it was sent. */
  readonly bytes: number;
  /** Bytes received from the client: for a WebSocket, the payload it sent; absent (0) for other requests. */
  readonly bytesIn?: number;
  readonly seconds: number;
  readonly route: string;
}

/** What is known only when a request ends: a WebSocket's line is written when it closes, as nginx does. */
export type AccessEnd = Pick<AccessEntry, 'bytes' | 'bytesIn' | 'seconds'>;

type Early = (e: AccessEntry) => string;
type Late = (end: AccessEnd, now: Date) => string;
type Part = string | { readonly early: Early } | { readonly late: Late };
/** A line whose request has not ended: what was known at its start is rendered, the rest waits. */
export type HeldLine = ReadonlyArray<string | Late>;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
/** `21/Nov/2026:04:45:48 +0000`, as nginx writes $time_local (in UTC here). */
function timeLocal(d: Date): string {
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
const dash = (v: unknown) => (v === undefined || v === '' ? '-' : String(v));

const EARLY: Record<string, Early> = {
  remote_addr: (e) => e.req.clientIp,
  remote_port: (e) => String(e.req.clientPort),
  remote_user: (e) => dash(e.req.get('user')),
  request: (e) => `${e.req.method} ${e.req.url} HTTP/${e.req.httpVersion}`,
  request_method: (e) => e.req.method,
  request_uri: (e) => e.req.url,
  server_protocol: (e) => `HTTP/${e.req.httpVersion}`,
  server_port: (e) => String(e.req.port),
  status: (e) => String(e.status),
  listener: (e) => e.req.listener.name,
  route: (e) => e.route,
};
/** The variables of a request's end: the time it ended (as nginx's), what went each way, how long it took. */
const LATE: Record<string, Late> = {
  time_local: (_e, now) => timeLocal(now),
  time_iso8601: (_e, now) => now.toISOString(),
  body_bytes_sent: (e) => String(e.bytes),
  bytes_received: (e) => String(e.bytesIn ?? 0),
  request_time: (e) => e.seconds.toFixed(3),
};

/**
 * Compiles an nginx-style format once: `$name` variables (the tables above, and `$http_<header>` with dashes
 * as underscores); quotes and control characters in values are escaped as nginx does, so a client cannot
 * forge log lines.
 */
function compileParts(format: string): Part[] {
  const parts: Part[] = [];
  const re = /\$([a-z_][a-z0-9_]*)/gi;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    parts.push(format.slice(last, m.index));
    const name = m[1]!.toLowerCase();
    if (name.startsWith('http_')) {
      const header = name.slice(5).replace(/_/g, '-');
      parts.push({ early: (e) => dash(e.req.header(header)) });
    } else if (EARLY[name]) {
      parts.push({ early: EARLY[name] });
    } else if (LATE[name]) {
      parts.push({ late: LATE[name] });
    } else {
      const known = [...Object.keys(EARLY), ...Object.keys(LATE)].map((v) => `$${v}`).join(', ');
      throw new WsgateError('WSGATE_CONFIG_INVALID', `accessLog.format: unknown variable $${m[1]} (known: ${known}, $http_<header>)`);
    }
    last = m.index + m[0].length;
  }
  parts.push(format.slice(last));
  return parts;
}

/** The line of a request that has ended. */
export function compileFormat(format: string): (e: AccessEntry, now: Date) => string {
  const parts = compileParts(format);
  return (e, now) => lineOf(parts, e, now);
}

function lineOf(parts: readonly Part[], e: AccessEntry, now: Date): string {
  let line = '';
  for (const p of parts) line += typeof p === 'string' ? p : escape('early' in p ? p.early(e) : p.late(e, now));
  return line;
}

/** Renders what `e` knows now (its request's facts) and keeps the variables of its end for later. */
function hold(parts: readonly Part[], e: AccessEntry): HeldLine {
  const held: Array<string | Late> = [];
  // Joined, not concatenated: a flat string, which keeps none of the request's header strings alive.
  let text: string[] = [];
  for (const p of parts) {
    if (typeof p === 'string') text.push(p);
    else if ('early' in p) text.push(escape(p.early(e)));
    else {
      held.push(text.join(''), p.late);
      text = [];
    }
  }
  held.push(text.join(''));
  return held;
}

function finish(held: HeldLine, end: AccessEnd, now: Date): string {
  let line = '';
  for (const p of held) line += typeof p === 'string' ? p : escape(p(end, now));
  return line;
}

function escape(value: string): string {
  // nginx escapes '"', '\' and bytes outside printable ASCII as \xHH.
  return /["\\\x00-\x1f\x7f-\uffff]/.test(value)
    ? value.replace(/["\\\x00-\x1f\x7f-\uffff]/g, (c) => {
        const code = c.charCodeAt(0);
        return code > 0xff ? encodeURIComponent(c).replace(/%/g, '\\x') : `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`;
      })
    : value;
}

/**
 * The access log: one line per finished request, to a file (appended) or to stdout (`-`). The file is
 * opened when the log is made, so a path that cannot be opened stops the start (or a reload).
 */
export class AccessLog {
  private readonly parts: Part[];
  private stream: WriteStream | undefined;
  private closed = false;

  /** @throws WsgateError `WSGATE_LOG_FILE` naming the path and the fix, when the file cannot be opened. */
  constructor(
    /** The file, or `-` for stdout. */
    readonly path: string,
    format: string = COMBINED,
  ) {
    this.parts = compileParts(format);
    this.stream = this.open();
  }

  write(entry: AccessEntry): void {
    this.writeLine(lineOf(this.parts, entry, new Date()));
  }

  /** A request whose line is written when it ends (a WebSocket, when it closes): its known part, rendered now. */
  hold(entry: Omit<AccessEntry, 'bytes' | 'bytesIn' | 'seconds'>): HeldLine {
    return hold(this.parts, { ...entry, bytes: 0, seconds: 0 });
  }

  /** Writes a held line (held by this log or the one a reload replaced) now that its request has ended. */
  writeHeld(held: HeldLine, end: AccessEnd): void {
    this.writeLine(finish(held, end, new Date()));
  }

  /**
   * Opens the file at its path again (after log rotation: SIGUSR1). Lines under way finish in the old file.
   * @throws WsgateError when it cannot be opened; the old file stays in use.
   */
  reopen(): void {
    if (this.closed) return;
    const next = this.open();
    const old = this.stream;
    this.stream = next;
    old?.end();
  }

  close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    this.closed = true;
    return new Promise((resolve) => (stream ? stream.end(resolve) : resolve()));
  }

  private writeLine(line: string): void {
    if (this.closed) return;
    if (this.stream) this.stream.write(`${line}\n`);
    else process.stdout.write(`${line}\n`);
  }

  private open(): WriteStream | undefined {
    if (this.path === '-') return undefined;
    let fd: number;
    try {
      fd = openSync(this.path, 'a', 0o644);
    } catch (err) {
      throw logFileError('accessLog.path', this.path, err);
    }
    const stream = createWriteStream(this.path, { fd, flags: 'a' });
    stream.on('error', (err) => process.stderr.write(`wsgate: access log ${this.path}: ${err.message}\n`));
    return stream;
  }
}

/** What a start would say of the path, found without creating the file (`wsgate check`). */
export async function checkAccessLogPath(file: string): Promise<void> {
  if (file !== '-') await checkLogFilePath('accessLog.path', file);
}
