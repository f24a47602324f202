import { isUtf8 } from 'node:buffer';
import { allOf, CONTROL, controlCharsAllowed, TOKEN } from './chars.js';
import { SipSyntaxError } from './errors.js';
import { headerKey, knownName } from './header-names.js';
import { type HeaderField, ParsedField, SipHeaders } from './headers.js';
import { ParseError, type SipMessage, SipRequest, SipResponse } from './message.js';

/** Limits on one frame; both bound the parser's work before it reads a header. */
export interface ParseOptions {
  /** Bytes in the whole frame, head and body (default 65,536: SIP's own UDP bound, RFC 3261 §18.1.1). */
  maxMessageSize?: number;
  /** Header fields, a folded field counting once (default 128; a browser's INVITE has about 15). */
  maxHeaders?: number;
  /** Also read Contact, Route, Record-Route, Path, Expires, credentials and challenges before returning. */
  validateAll?: boolean;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 65_536;
export const DEFAULT_MAX_HEADERS = 128;

const EMPTY = Buffer.alloc(0);
/**
 * A control character other than HTAB and the CRLF pairs that end lines (a bare CR or LF included): when a
 * head has none, its fields' values (folds undone) have none either, and need no test of their own.
 */
const STRAY_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/;
const BLANK_LINE = Buffer.from('\r\n\r\n');

/**
 * One WebSocket message as one SIP message (RFC 7118 §5.1): the head up to the first empty line, the body the
 * rest of the frame. Returns a SipRequest or SipResponse, or throws a ParseError with the reason and, for a
 * request it can answer, the request as read. Strict: RFC 3261 §25's grammar for the start line and for every
 * header the parser reads; the body must be exactly `Content-Length` bytes when that header is present.
 */
export function parseMessage(frame: Buffer | Uint8Array | string, options: ParseOptions = {}): SipMessage {
  const maxSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  let head: string;
  let body: Buffer;
  let terminated: boolean;
  if (typeof frame === 'string') {
    const size = frame.length * 3 > maxSize ? Buffer.byteLength(frame) : frame.length;
    if (size > maxSize) throw new ParseError(513, `message of ${size} bytes is over the limit of ${maxSize}`);
    const end = frame.indexOf('\r\n\r\n');
    terminated = end >= 0;
    head = terminated ? frame.slice(0, end) : frame;
    body = terminated && end + 4 < frame.length ? Buffer.from(frame.slice(end + 4), 'utf8') : EMPTY;
  } else {
    const buf = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    if (buf.length > maxSize) throw new ParseError(513, `message of ${buf.length} bytes is over the limit of ${maxSize}`);
    const end = buf.indexOf(BLANK_LINE);
    terminated = end >= 0;
    const headBytes = terminated ? buf.subarray(0, end) : buf;
    if (!isUtf8(headBytes)) throw new ParseError(400, 'the header section is not UTF-8');
    head = headBytes.toString('utf8');
    body = terminated ? buf.subarray(end + 4) : EMPTY;
  }
  return parseHead(head, terminated, body, options);
}

function parseHead(head: string, terminated: boolean, body: Buffer, options: ParseOptions): SipMessage {
  const faults: ParseError[] = [];
  if (!terminated && head.endsWith('\r\n')) head = head.slice(0, -2);
  let lineEnd = head.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = head.length;
  const start = startLine(head.slice(0, lineEnd), faults);
  if (!terminated) faults.push(new ParseError(400, 'no empty line after the header section'));
  // One scan of the whole head: with no control character but CRLF pairs in it (the usual case), no field needs its own.
  const clean = !STRAY_CONTROL.test(head);
  const headers = new SipHeaders(splitFields(head, lineEnd + 2, options.maxHeaders ?? DEFAULT_MAX_HEADERS, faults, clean));
  if (start === undefined) throw (faults[0] as ParseError).withRequest(undefined);
  const message =
    start.kind === 'request'
      ? new SipRequest(start.method, start.target, headers, body)
      : new SipResponse(start.status, start.reason, headers, body);
  message.startLine = start.line;
  // What a response needs (RFC 3261 §8.2.6): without these, the message cannot be answered.
  try {
    readEssentials(message);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    throw (faults[0] ?? e).withRequest(undefined);
  }
  checkRest(message, start, body, options, faults);
  const first = faults[0];
  if (first !== undefined) throw first.withRequest(message.kind === 'request' ? message : undefined);
  return message;
}

function readEssentials(message: SipMessage): void {
  message.via;
  message.from;
  message.to;
  message.callId;
  message.cseq;
}

/** The header fields after the start line, folded lines joined; a malformed line is left out and noted. */
function splitFields(head: string, from: number, maxHeaders: number, faults: ParseError[], clean: boolean): HeaderField[] {
  const fields: HeaderField[] = [];
  let start = from;
  let folded = false;
  while (start < head.length) {
    let end = head.indexOf('\r\n', start);
    // a field ends before the next line that does not start with SP or HTAB (a fold, RFC 3261 §7.3.1)
    for (;;) {
      if (end < 0) {
        end = head.length;
        break;
      }
      const next = head.charCodeAt(end + 2);
      if (next !== 32 && next !== 9) break;
      folded = true;
      end = head.indexOf('\r\n', end + 2);
    }
    if (fields.length >= maxHeaders) {
      throw new ParseError(513, `more than ${maxHeaders} header fields`);
    }
    const f = readField(head, start, end, folded, faults, clean);
    if (f !== undefined) fields.push(f);
    folded = false;
    start = end + 2;
  }
  return fields;
}

/** The field at head[start, end): read in place, the value the one string sliced for it (unless folded). */
function readField(head: string, start: number, end: number, folded: boolean, faults: ParseError[], clean: boolean): HeaderField | undefined {
  const colon = head.indexOf(':', start);
  let nameEnd = colon;
  while (nameEnd > start && (head.charCodeAt(nameEnd - 1) === 32 || head.charCodeAt(nameEnd - 1) === 9)) nameEnd--;
  if (colon < 0 || colon >= end || nameEnd === start || !allOf(head, start, nameEnd, TOKEN, false)) {
    const c = head.charCodeAt(start);
    faults.push(new ParseError(400, c === 32 || c === 9 ? 'a folded line before the first header' : 'malformed header line'));
    return undefined;
  }
  const known = knownName(head, start, nameEnd);
  const name = known === undefined ? head.slice(start, nameEnd) : known.name;
  let value: string;
  if (folded) value = trimWsp(head.slice(colon + 1, end).replace(/\r\n/g, ''));
  else {
    let a = colon + 1;
    let b = end;
    while (a < b && (head.charCodeAt(a) === 32 || head.charCodeAt(a) === 9)) a++;
    while (b > a && (head.charCodeAt(b - 1) === 32 || head.charCodeAt(b - 1) === 9)) b--;
    value = head.slice(a, b);
  }
  // SP and HTAB trimmed off the ends are no control characters: the trimmed value tells the same
  if (!clean && CONTROL.test(value) && !controlCharsAllowed(value)) {
    faults.push(new ParseError(400, `control character in the ${name} header`));
    return undefined;
  }
  return new ParsedField(name, known === undefined ? headerKey(name) : known.key, value, head, start, end);
}

function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

type StartLine =
  | { kind: 'request'; line: string; method: string; target: string; wellFormed: boolean }
  | { kind: 'response'; line: string; status: number; reason: string };

/** The start line; undefined when not even a request's method can be read (nothing can be answered). */
function startLine(line: string, faults: ParseError[]): StartLine | undefined {
  if (/^sip\//i.test(line)) return statusLine(line, faults);
  const sp = line.indexOf(' ');
  if (sp <= 0 || !allOf(line, 0, sp, TOKEN, false)) {
    faults.push(new ParseError(400, line.length === 0 ? 'empty start line' : 'malformed request line'));
    return undefined;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version: one SP each, nothing else (RFC 4475 §3.1.2.7-9)
  const sp2 = line.indexOf(' ', sp + 1);
  const target = sp2 < 0 ? line.slice(sp + 1) : line.slice(sp + 1, sp2);
  const before = faults.length;
  if (sp2 < 0 || sp2 === sp + 1 || line.indexOf(' ', sp2 + 1) >= 0 || line.indexOf('\t') >= 0) {
    faults.push(new ParseError(400, 'malformed request line'));
  } else if (!(line.length === sp2 + 8 && line.startsWith('SIP/2.0', sp2 + 1))) version(line.slice(sp2 + 1), faults); // as every UA writes it: nothing to check
  return { kind: 'request', line, method: line.slice(0, sp), target, wellFormed: faults.length === before };
}

/** Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
function statusLine(line: string, faults: ParseError[]): StartLine | undefined {
  const sp = line.indexOf(' ');
  if (sp < 0 || line.charCodeAt(sp + 4) !== 32 || !/^[1-6]\d\d$/.test(line.slice(sp + 1, sp + 4))) {
    faults.push(new ParseError(400, 'malformed status line'));
    return undefined;
  }
  if (!(sp === 7 && line.startsWith('SIP/2.0'))) version(line.slice(0, sp), faults);
  // The reason phrase means nothing to a proxy (the code does): any text but control characters, so that a
  // final response with "[" or '"' in it is not lost; what this package writes keeps to the grammar.
  const reason = line.slice(sp + 5);
  if (CONTROL.test(reason)) faults.push(new ParseError(400, 'control character in the reason phrase'));
  return { kind: 'response', line, status: Number(line.slice(sp + 1, sp + 4)), reason };
}

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; only 2.0 is served (505 otherwise). */
function version(v: string, faults: ParseError[]): void {
  if (!/^sip\/\d{1,9}\.\d{1,9}$/i.test(v)) faults.push(new ParseError(400, 'malformed SIP version'));
  else if (v.slice(4) !== '2.0') faults.push(new ParseError(505, `SIP version ${v.slice(4)} not supported`));
}

/** A view's fault noted as a ParseError (the view's own, or one made from the header's SipSyntaxError). */
function note(e: unknown, faults: ParseError[]): void {
  if (!(e instanceof SipSyntaxError)) throw e;
  faults.push(e instanceof ParseError ? e : new ParseError(e.status, e.reason));
}

/** What `validateAll` reads besides: made once, not a closure per message. */
const VALIDATE_ALL: ReadonlyArray<(m: SipMessage) => unknown> = [
  (m) => m.contacts(),
  (m) => m.routes(),
  (m) => m.recordRoutes(),
  (m) => m.paths(),
  (m) => m.expires(),
  (m) => m.authorizations(),
  (m) => m.proxyAuthorizations(),
  (m) => m.wwwAuthenticates(),
  (m) => m.proxyAuthenticates(),
];

/** Everything else the parser checks once the message is known to be answerable. */
function checkRest(message: SipMessage, start: StartLine, body: Buffer, options: ParseOptions, faults: ParseError[]): void {
  if (message.kind === 'request' && start.kind === 'request' && start.wellFormed) {
    try {
      const uri = message.uri;
      if (uri.type === 'sip' && uri.headers.length > 0) faults.push(new ParseError(400, 'headers in the Request-URI (RFC 3261 §19.1.1)'));
    } catch (e) {
      note(e, faults);
    }
    if (message.cseq.method !== message.method) {
      faults.push(new ParseError(400, `CSeq method ${message.cseq.method} does not match ${message.method}`));
    }
  }
  try {
    message.maxForwards;
  } catch (e) {
    note(e, faults);
  }
  try {
    const length = message.contentLength;
    if (length !== undefined && length !== body.length) {
      faults.push(new ParseError(400, `Content-Length ${length} does not match the body's ${body.length} bytes`));
    }
  } catch (e) {
    note(e, faults);
  }
  try {
    if (message.contentType === undefined && body.length > 0) faults.push(new ParseError(400, 'a body without Content-Type'));
  } catch (e) {
    note(e, faults);
  }
  if (options.validateAll) {
    for (const read of VALIDATE_ALL) {
      try {
        read(message);
      } catch (e) {
        note(e, faults);
      }
    }
  }
}
