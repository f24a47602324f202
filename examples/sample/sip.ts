/**
 * A tiny stateless SIP responder (RFC 3261) for SIP over WebSocket (RFC 7118): every WebSocket text message is
 * one SIP message. It answers `OPTIONS` with 200, any other request but `ACK` with 501, and a request whose
 * mandatory headers are missing with 400 when it has a `Via` to send the answer back on.
 *
 * It sits on the hot path of the SIP benchmark, so it scans lines with `indexOf` and compares header names by
 * character codes: no regular expression, no array, no lower-casing copy per header.
 */
import { randomBytes } from 'node:crypto';

const CRLF = '\r\n';
const SIP_VERSION = 'SIP/2.0';

// Header kinds; the ones the responder does not need are OTHER.
const OTHER = 0;
const VIA = 1;
const FROM = 2;
const TO = 3;
const CALL_ID = 4;
const CSEQ = 5;
const CONTENT_LENGTH = 6;

// To tags: a random per-process prefix and a counter, unique enough for a stateless responder and cheap.
const tagPrefix = randomBytes(4).toString('hex');
let tagCounter = 0;
function nextTag(): string {
  tagCounter = (tagCounter + 1) % 0x100000000;
  return tagPrefix + tagCounter.toString(16);
}

/**
 * Answers one SIP message received on a `sip` WebSocket.
 * @param message the whole text message
 * @returns the response to send back, or `undefined` when nothing must be sent (a response, an `ACK`, garbage,
 *   or a broken request without a `Via`). Never throws.
 */
export function answerSip(message: string): string | undefined {
  try {
    return answer(message);
  } catch {
    return undefined;
  }
}

function answer(msg: string): string | undefined {
  const len = msg.length;
  let lineEnd = msg.indexOf('\n');
  if (lineEnd === -1) lineEnd = len;
  const firstEnd = trimCr(msg, 0, lineEnd);

  // Request-Line = Method SP Request-URI SP SIP-Version; a response starts with the version.
  if (msg.startsWith('SIP/2.0 ')) return undefined;
  const sp1 = msg.indexOf(' ', 0);
  if (sp1 <= 0 || sp1 >= firstEnd || !isToken(msg, 0, sp1)) return undefined;
  const sp2 = msg.indexOf(' ', sp1 + 1);
  if (sp2 <= sp1 + 1 || sp2 >= firstEnd) return undefined;
  if (firstEnd - sp2 - 1 !== SIP_VERSION.length || !msg.startsWith(SIP_VERSION, sp2 + 1)) return undefined;
  const isAck = sp1 === 3 && msg.startsWith('ACK', 0);
  if (isAck) return undefined;

  let vias = '';
  let from = -1, fromEnd = -1;
  let to = -1, toEnd = -1, toValue = -1;
  let callId = -1, callIdEnd = -1;
  let cseq = -1, cseqEnd = -1, cseqValue = -1;
  let bad = false;

  // The header being read: folded continuation lines extend it until the next header starts.
  let kind = OTHER, start = -1, valueStart = -1, end = -1;

  let pos = lineEnd + 1;
  for (;;) {
    let next = len;
    let stop = len;
    if (pos < len) {
      next = msg.indexOf('\n', pos);
      if (next === -1) next = len;
      stop = trimCr(msg, pos, next);
    }
    const atEnd = stop <= pos; // the end of the message, or the empty line before the body
    if (!atEnd) {
      const first = msg.charCodeAt(pos);
      if (first === 0x20 || first === 0x09) {
        // A folded line continues the header before it (RFC 3261 §7.3.1); kept as received.
        if (start === -1) bad = true;
        else end = stop;
        pos = next + 1;
        continue;
      }
    }
    // Close the header read so far.
    if (start !== -1) {
      switch (kind) {
        case VIA: vias += msg.slice(start, end) + CRLF; break;
        case FROM: if (from === -1) { from = start; fromEnd = end; } else bad = true; break;
        case TO: if (to === -1) { to = start; toEnd = end; toValue = valueStart; } else bad = true; break;
        case CALL_ID: if (callId === -1) { callId = start; callIdEnd = end; } else bad = true; break;
        case CSEQ: if (cseq === -1) { cseq = start; cseqEnd = end; cseqValue = valueStart; } else bad = true; break;
        case CONTENT_LENGTH: if (!isDigits(msg, valueStart, end)) bad = true; break;
      }
    }
    if (atEnd) break;
    const colon = msg.indexOf(':', pos);
    if (colon === -1 || colon >= stop) {
      bad = true;
      start = -1;
      kind = OTHER;
    } else {
      let nameEnd = colon;
      while (nameEnd > pos && isWhite(msg.charCodeAt(nameEnd - 1))) nameEnd--;
      kind = headerKind(msg, pos, nameEnd);
      if (nameEnd === pos) bad = true;
      start = pos;
      end = stop;
      valueStart = colon + 1;
    }
    pos = next + 1;
  }

  if (vias === '') return undefined; // nowhere to send an answer
  if (from === -1 || to === -1 || callId === -1 || cseq === -1) bad = true;
  else if (!cseqMatches(msg, cseqValue, cseqEnd, sp1)) bad = true;

  let status: string;
  if (bad) status = '400 Bad Request';
  else if (sp1 === 7 && msg.startsWith('OPTIONS', 0)) status = '200 OK';
  else status = '501 Not Implemented';

  let out = 'SIP/2.0 ' + status + CRLF + vias;
  if (from !== -1) out += msg.slice(from, fromEnd) + CRLF;
  if (to !== -1) {
    out += hasTag(msg, toValue, toEnd)
      ? msg.slice(to, toEnd) + CRLF
      : msg.slice(to, trimEnd(msg, toValue, toEnd)) + ';tag=' + nextTag() + CRLF;
  }
  if (callId !== -1) out += msg.slice(callId, callIdEnd) + CRLF;
  if (cseq !== -1) out += msg.slice(cseq, cseqEnd) + CRLF;
  return out + 'Allow: OPTIONS\r\nServer: wsgate\r\nContent-Length: 0\r\n\r\n';
}

/** The end of a line without its CR, for CRLF or bare LF line endings. */
function trimCr(s: string, from: number, to: number): number {
  return to > from && s.charCodeAt(to - 1) === 0x0d ? to - 1 : to;
}

function trimEnd(s: string, from: number, to: number): number {
  while (to > from && isWhite(s.charCodeAt(to - 1))) to--;
  return to;
}

function isWhite(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** `name` must be lower case; compares `s[from, from + name.length)` ignoring ASCII case. */
function eqLower(s: string, from: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    if ((s.charCodeAt(from + i) | 0x20) !== name.charCodeAt(i)) return false;
  }
  return true;
}

function headerKind(s: string, from: number, to: number): number {
  switch (to - from) {
    case 1:
      switch (s.charCodeAt(from) | 0x20) {
        case 0x76: return VIA; // v
        case 0x66: return FROM; // f
        case 0x74: return TO; // t
        case 0x69: return CALL_ID; // i
        case 0x6c: return CONTENT_LENGTH; // l
      }
      return OTHER;
    case 2: return eqLower(s, from, 'to') ? TO : OTHER;
    case 3: return eqLower(s, from, 'via') ? VIA : OTHER;
    case 4: return eqLower(s, from, 'from') ? FROM : eqLower(s, from, 'cseq') ? CSEQ : OTHER;
    case 7: return eqLower(s, from, 'call-id') ? CALL_ID : OTHER;
    case 14: return eqLower(s, from, 'content-length') ? CONTENT_LENGTH : OTHER;
  }
  return OTHER;
}

/** RFC 3261 `token`: alphanumerics and `-.!%*_+\`'~`. */
function isToken(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)) continue;
    switch (c) {
      case 0x2d: case 0x2e: case 0x21: case 0x25: case 0x2a: case 0x5f: case 0x2b: case 0x60: case 0x27: case 0x7e:
        continue;
    }
    return false;
  }
  return true;
}

/** Digits between optional white space (a Content-Length value). */
function isDigits(s: string, from: number, to: number): boolean {
  while (from < to && isWhite(s.charCodeAt(from))) from++;
  to = trimEnd(s, from, to);
  if (from === to) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** CSeq = 1*DIGIT LWS Method, and the method must be the request's (RFC 3261 §8.1.1.5). */
function cseqMatches(s: string, from: number, to: number, methodLen: number): boolean {
  while (from < to && isWhite(s.charCodeAt(from))) from++;
  const digits = from;
  while (from < to && s.charCodeAt(from) >= 0x30 && s.charCodeAt(from) <= 0x39) from++;
  if (from === digits || from - digits > 10) return false;
  const spaced = from;
  while (from < to && isWhite(s.charCodeAt(from))) from++;
  if (from === spaced) return false;
  if (trimEnd(s, from, to) - from !== methodLen) return false;
  for (let i = 0; i < methodLen; i++) if (s.charCodeAt(from + i) !== s.charCodeAt(i)) return false;
  return true;
}

/**
 * Whether a To value already has a `tag` parameter. Parameters follow the `>` of a name-addr (a display name may
 * be quoted and hold anything) or, for a bare addr-spec, the URI itself, whose own parameters cannot appear there.
 */
function hasTag(s: string, from: number, to: number): boolean {
  let i = from;
  while (i < to && isWhite(s.charCodeAt(i))) i++;
  if (i < to && s.charCodeAt(i) === 0x22) {
    // quoted display name: skip to the closing quote, honouring backslash escapes
    for (i++; i < to; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x5c) i++;
      else if (c === 0x22) break;
    }
  }
  const lt = s.indexOf('<', i);
  if (lt !== -1 && lt < to) {
    const gt = s.indexOf('>', lt);
    if (gt === -1 || gt >= to) return false;
    i = gt + 1;
  }
  for (let semi = s.indexOf(';', i); semi !== -1 && semi < to; semi = s.indexOf(';', semi + 1)) {
    let p = semi + 1;
    while (p < to && isWhite(s.charCodeAt(p))) p++;
    if (p + 3 <= to && eqLower(s, p, 'tag')) {
      p += 3;
      while (p < to && isWhite(s.charCodeAt(p))) p++;
      if (p < to && s.charCodeAt(p) === 0x3d) return true;
    }
  }
  return false;
}
