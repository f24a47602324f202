import { ParsedField } from './headers.js';
import type { SipMessage } from './message.js';

export interface SerializeOptions {
  /** Writes every header as `Name: value` (folds undone) and the start line anew, ignoring the text received. */
  canonical?: boolean;
}

/** The start line and header section, with the empty line that ends it. */
export function serializeHead(message: SipMessage, options: SerializeOptions = {}): string {
  const canonical = options.canonical === true;
  let s = (!canonical && message.startLine) || startLineOf(message);
  s += '\r\n';
  // Fields unchanged since parsing that stood next to each other in the received text go out as one slice of it.
  let run: ParsedField | undefined;
  let runEnd = 0;
  for (const f of message.headers) {
    if (!canonical && f instanceof ParsedField) {
      if (run !== undefined && f.head === run.head && f.start === runEnd + 2) {
        runEnd = f.end;
        continue;
      }
      if (run !== undefined) s += runText(run, runEnd);
      run = f;
      runEnd = f.end;
      continue;
    }
    if (run !== undefined) {
      s += runText(run, runEnd);
      run = undefined;
    }
    s += (canonical || f.raw === undefined ? `${f.name}: ${f.value}` : f.raw) + '\r\n';
  }
  if (run !== undefined) s += runText(run, runEnd);
  return s + '\r\n';
}

/**
 * The message as the bytes of one WebSocket message. A field nobody changed is written exactly as received,
 * in its place, so relaying a parsed message changes only what the relay changed. Content-Length is not
 * touched here (`setBody()` keeps it in step).
 */
export function serialize(message: SipMessage, options: SerializeOptions = {}): Buffer {
  const head = serializeHead(message, options);
  const body = message.body;
  const headLength = Buffer.byteLength(head);
  const out = Buffer.allocUnsafe(headLength + body.length);
  out.write(head, 0, headLength, 'utf8');
  body.copy(out, headLength);
  return out;
}

/** A run of fields from `run` to `end` with its CRLF: one slice, with the CRLF that follows it in the text when there is one. */
function runText(run: ParsedField, end: number): string {
  return end + 2 <= run.head.length ? run.head.slice(run.start, end + 2) : run.head.slice(run.start, end) + '\r\n';
}

function startLineOf(message: SipMessage): string {
  return message.kind === 'request'
    ? `${message.method} ${message.requestUri} SIP/2.0`
    : `SIP/2.0 ${message.status} ${message.reason}`;
}
