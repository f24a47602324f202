import { createWriteStream, type WriteStream } from 'node:fs';
import { WsgateError } from '../errors.js';
import type { RequestFacts } from '../request/request-facts.js';

/** nginx's `combined` format, the default. */
export const COMBINED =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

/** One finished request, as the access log sees it. */
export interface AccessEntry {
  readonly req: RequestFacts<any>;
  readonly status: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly route: string;
}

type Part = string | ((e: AccessEntry, now: Date) => string);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
/** `21/Nov/2026:04:45:48 +0000`, as nginx writes $time_local (in UTC here). */
function timeLocal(d: Date): string {
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
const dash = (v: unknown) => (v === undefined || v === '' ? '-' : String(v));

const VARIABLES: Record<string, (e: AccessEntry, now: Date) => string> = {
  remote_addr: (e) => e.req.clientIp,
  remote_port: (e) => String(e.req.clientPort),
  remote_user: (e) => dash(e.req.get('user')),
  time_local: (_e, now) => timeLocal(now),
  time_iso8601: (_e, now) => now.toISOString(),
  request: (e) => `${e.req.method} ${e.req.url} HTTP/${e.req.httpVersion}`,
  request_method: (e) => e.req.method,
  request_uri: (e) => e.req.url,
  server_protocol: (e) => `HTTP/${e.req.httpVersion}`,
  server_port: (e) => String(e.req.port),
  status: (e) => String(e.status),
  body_bytes_sent: (e) => String(e.bytes),
  request_time: (e) => e.seconds.toFixed(3),
  listener: (e) => e.req.listener.name,
  route: (e) => e.route,
};

/**
 * Compiles an nginx-style format once: `$name` variables (the table above, and `$http_<header>` with dashes
 * as underscores); quotes and control characters in values are escaped as nginx does, so a client cannot
 * forge log lines.
 */
export function compileFormat(format: string): (e: AccessEntry, now: Date) => string {
  const parts: Part[] = [];
  const re = /\$([a-z_][a-z0-9_]*)/gi;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    parts.push(format.slice(last, m.index));
    const name = m[1]!.toLowerCase();
    if (name.startsWith('http_')) {
      const header = name.slice(5).replace(/_/g, '-');
      parts.push((e) => dash(e.req.header(header)));
    } else {
      const variable = VARIABLES[name];
      if (!variable) {
        throw new WsgateError('WSGATE_CONFIG_INVALID', `accessLog.format: unknown variable $${m[1]} (known: ${Object.keys(VARIABLES).map((v) => `$${v}`).join(', ')}, $http_<header>)`);
      }
      parts.push(variable);
    }
    last = m.index + m[0].length;
  }
  parts.push(format.slice(last));
  return (e, now) => {
    let line = '';
    for (const p of parts) line += typeof p === 'string' ? p : escape(p(e, now));
    return line;
  };
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

/** The access log: one line per finished request, to a file (appended) or to stdout (`-`). */
export class AccessLog {
  private readonly format: (e: AccessEntry, now: Date) => string;
  private stream: WriteStream | undefined;

  constructor(
    private readonly path: string,
    format: string = COMBINED,
  ) {
    this.format = compileFormat(format);
    this.open();
  }

  write(entry: AccessEntry): void {
    const line = `${this.format(entry, new Date())}\n`;
    if (this.stream) this.stream.write(line);
    else process.stdout.write(line);
  }

  /** Re-open the file (after log rotation; on reload). */
  reopen(): void {
    this.stream?.end();
    this.open();
  }

  close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    return new Promise((resolve) => (stream ? stream.end(resolve) : resolve()));
  }

  private open(): void {
    if (this.path === '-') return;
    this.stream = createWriteStream(this.path, { flags: 'a' });
    this.stream.on('error', (err) => process.stderr.write(`wsgate: access log ${this.path}: ${err.message}\n`));
  }
}
