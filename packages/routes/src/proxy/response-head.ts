/**
 * The upstream's answer to an upgrade request, read straight off the socket: status line and headers only
 * (node's HTTP client would build a request, a parser and a message per handshake for the same). Strict:
 * anything that is not a well-formed HTTP/1.x head is an error, and the head is bounded in size. One pass:
 * each name is lower-cased once, here, for the checks and for what is relayed.
 */
import { BadUpstreamAnswerError } from '../upstream/upstream-error.js';

export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  /** Flat `[name, value, …]`, as received. */
  readonly rawHeaders: readonly string[];
  /** The names of `rawHeaders` in lower case, one per pair. */
  readonly names: readonly string[];
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
}

/** Longest head accepted from an upstream, CRLFs included (the gateway's own default `limits.maxHeaderSize`). */
export const MAX_HEAD = 16 * 1024;

const TOO_LONG = `response head longer than ${MAX_HEAD} bytes`;

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SP = 0x20;
const HTAB = 0x09;

/** Gathers chunks until the blank line: `push()` returns the head and the bytes after it, or undefined for "more". */
export class ResponseHeadReader {
  private buffered: Buffer | undefined;

  /** @throws Error when the head is malformed or longer than {@link MAX_HEAD}. */
  push(chunk: Buffer): { head: ResponseHead; rest: Buffer } | undefined {
    const all = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    const end = all.indexOf('\r\n\r\n');
    // Without the blank line yet, the head is at least one byte longer than what came: bounded either way.
    if (end < 0 ? all.length > MAX_HEAD : end + 4 > MAX_HEAD) throw new Error(TOO_LONG);
    if (end < 0) {
      this.buffered = all;
      return undefined;
    }
    this.buffered = undefined;
    return { head: parseHead(all.toString('latin1', 0, end)), rest: all.subarray(end + 4) };
  }
}

/**
 * Node's HTTP parser refusing an upstream's answer (message mode and plain HTTP read it with node's client,
 * bounded by `maxHeaderSize: MAX_HEAD`): the same bad answer as the reader's, or undefined for other errors.
 */
export function parserRefusal(err: unknown): BadUpstreamAnswerError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !code.startsWith('HPE_')) return undefined;
  return new BadUpstreamAnswerError(code === 'HPE_HEADER_OVERFLOW' ? TOO_LONG : `unparsable response (${code})`);
}

function parseHead(text: string): ResponseHead {
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const status = STATUS_LINE.exec(text.slice(0, eol));
  if (!status) throw new Error(`not an HTTP/1.1 status line: ${JSON.stringify(text.slice(0, Math.min(eol, 80)))}`);
  const rawHeaders: string[] = [];
  const names: string[] = [];
  const headers = new HeaderRecord();
  while (eol < text.length) {
    const start = eol + 2;
    eol = text.indexOf('\r\n', start);
    if (eol < 0) eol = text.length;
    const colon = text.indexOf(':', start);
    const name = colon < 0 || colon > eol ? '' : text.slice(start, colon);
    // A lone CR or LF inside a line would end it early for the next reader: response splitting.
    if (!TOKEN.test(name) || hasBreak(text, colon, eol)) throw new Error(`malformed header line ${JSON.stringify(text.slice(start, Math.min(eol, start + 80)))}`);
    const value = trimOws(text, colon + 1, eol);
    const lower = name.toLowerCase();
    rawHeaders.push(name, value);
    names.push(lower);
    headers[lower] = headers[lower] === undefined ? value : `${headers[lower]}, ${value}`;
  }
  return { status: Number(status[1]), statusText: status[2] ?? '', rawHeaders, names, headers };
}

/**
 * The lower-cased headers: no inherited names (`constructor`, `__proto__` are headers like any other), and unlike
 * `Object.create(null)` not a dictionary-mode object — the 101's usual names share one shape, read by inline caches.
 */
const HeaderRecord = function HeaderRecord() {} as unknown as new () => Record<string, string>;
HeaderRecord.prototype = Object.create(null);

function hasBreak(text: string, from: number, to: number): boolean {
  const cr = text.indexOf('\r', from);
  const lf = text.indexOf('\n', from);
  return (cr >= 0 && cr < to) || (lf >= 0 && lf < to);
}

/** The value without the optional whitespace around it (RFC 9110 §5.5: SP and HTAB only). */
function trimOws(text: string, from: number, to: number): string {
  while (from < to && (text.charCodeAt(from) === SP || text.charCodeAt(from) === HTAB)) from++;
  while (to > from && (text.charCodeAt(to - 1) === SP || text.charCodeAt(to - 1) === HTAB)) to--;
  return text.slice(from, to);
}
