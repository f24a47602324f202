import { ParseError, type SipMessage } from './message.js';
import { parseMessage, type ParseOptions } from './parse.js';
import { errorResponse } from './respond.js';
import { serialize } from './serialize.js';

/** What became of the frames one reader saw; a connection or a gateway keeps one and exports it as metrics. */
export interface FrameStats {
  messages: number;
  /** refused with a response (400, 505, 513) */
  answered: number;
  /** refused without one: unanswerable requests, malformed responses, ACKs */
  dropped: number;
  keepalives: number;
}

export function frameStats(): FrameStats {
  return { messages: 0, answered: 0, dropped: 0, keepalives: 0 };
}

export type FrameResult =
  | { kind: 'message'; message: SipMessage }
  /** send `reply` back on the same connection */
  | { kind: 'answer'; error: ParseError; reply: Buffer }
  | { kind: 'drop'; error: ParseError }
  /** a CRLF keep-alive (RFC 5626 §3.5.1): a double CRLF ping gets `reply`, a single CRLF pong none */
  | { kind: 'keepalive'; reply: Buffer | undefined };

const PING = '\r\n\r\n';
const PONG = Buffer.from('\r\n');

function frameIs(frame: Buffer | Uint8Array | string, text: string): boolean {
  if (typeof frame === 'string') return frame === text;
  return frame.length === text.length && Buffer.from(frame.buffer, frame.byteOffset, frame.length).toString('latin1') === text;
}

/** One WebSocket message in, what to do with it out: the message, an answer to send, a drop, or a keep-alive. */
export function readFrame(frame: Buffer | Uint8Array | string, options?: ParseOptions, stats?: FrameStats): FrameResult {
  if (frame.length <= 4 && (frameIs(frame, PING) || frameIs(frame, '\r\n'))) {
    if (stats) stats.keepalives++;
    return { kind: 'keepalive', reply: frameIs(frame, PING) ? PONG : undefined };
  }
  try {
    const message = parseMessage(frame, options);
    if (stats) stats.messages++;
    return { kind: 'message', message };
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    const response = errorResponse(e);
    if (response === undefined) {
      if (stats) stats.dropped++;
      return { kind: 'drop', error: e };
    }
    if (stats) stats.answered++;
    return { kind: 'answer', error: e, reply: serialize(response) };
  }
}
