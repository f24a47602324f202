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
  for (const f of message.headers) s += (canonical || f.raw === undefined ? `${f.name}: ${f.value}` : f.raw) + '\r\n';
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

function startLineOf(message: SipMessage): string {
  return message.kind === 'request'
    ? `${message.method} ${message.requestUri} SIP/2.0`
    : `SIP/2.0 ${message.status} ${message.reason}`;
}
