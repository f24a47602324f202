/**
 * The upstream's answer to an upgrade request, read straight off the socket: status line and headers only
 * (node's HTTP client would build a request, a parser and a message per handshake for the same). Strict:
 * anything that is not a well-formed HTTP/1.x head is an error, and the head is bounded in size.
 */

export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  /** Flat `[name, value, …]`, as received. */
  readonly rawHeaders: readonly string[];
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
}

/** Longest head accepted from an upstream. */
export const MAX_HEAD = 16 * 1024;

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

/** Gathers chunks until the blank line: `push()` returns the head and the bytes after it, or undefined for "more". */
export class ResponseHeadReader {
  private buffered: Buffer | undefined;

  /** @throws Error when the head is malformed or longer than {@link MAX_HEAD}. */
  push(chunk: Buffer): { head: ResponseHead; rest: Buffer } | undefined {
    const all = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      if (all.length > MAX_HEAD) throw new Error(`response head longer than ${MAX_HEAD} bytes`);
      this.buffered = all;
      return undefined;
    }
    this.buffered = undefined;
    return { head: parseHead(all.toString('latin1', 0, end)), rest: all.subarray(end + 4) };
  }
}

function parseHead(text: string): ResponseHead {
  const lines = text.split('\r\n');
  const status = STATUS_LINE.exec(lines[0]!);
  if (!status) throw new Error(`not an HTTP/1.1 status line: ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  const rawHeaders: string[] = [];
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const m = HEADER_LINE.exec(lines[i]!);
    if (!m) throw new Error(`malformed header line ${JSON.stringify(lines[i]!.slice(0, 80))}`);
    const [, name, value] = m as unknown as [string, string, string];
    rawHeaders.push(name, value);
    const lower = name.toLowerCase();
    headers[lower] = headers[lower] === undefined ? value : `${headers[lower]}, ${value}`;
  }
  return { status: Number(status[1]), statusText: status[2] ?? '', rawHeaders, headers };
}
