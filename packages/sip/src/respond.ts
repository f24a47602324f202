import { randomHex } from '@wsgate/core';
import { REASON } from './chars.js';
import { field, type HeaderField, SipHeaders } from './headers.js';
import { type ParseError, type SipRequest, SipResponse } from './message.js';

export interface ResponseOptions {
  /** The To tag to add when the request's To has none (default: a new random tag). */
  toTag?: string;
  /** More headers, after the copied ones. */
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer | string;
  contentType?: string;
}

/** The body of a response without one (a Buffer of no bytes cannot be changed: one for all). */
const EMPTY = Buffer.alloc(0);

/** A new To tag: 64 random bits as hex. */
export function newTag(): string {
  return randomHex(8);
}

/** Text made fit for a Reason-Phrase: characters the grammar forbids become spaces, at most 120 characters. */
export function reasonPhrase(text: string): string {
  if (text.length <= 120 && fitsReason(text)) return text; // the usual case: no copy built character by character
  let s = '';
  for (let i = 0; i < text.length && s.length < 120; i++) {
    const c = text.charCodeAt(i);
    s += (c < 128 && REASON[c] !== 1) || c === 37 ? ' ' : text[i];
  }
  return s;
}

function fitsReason(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 128 && REASON[c] !== 1) || c === 37) return false;
  }
  return true;
}

/**
 * A response to `request` as RFC 3261 §8.2.6 builds it: Via fields, From, Call-ID and CSeq copied as received,
 * To copied with a tag added when it has none (not on a 100), Timestamp copied on a 100, Content-Length set.
 */
export function createResponse(request: SipRequest, status: number, reason: string, options: ResponseOptions = {}): SipResponse {
  // one pass over the request's fields per header copied, into one list (no intermediate arrays)
  const copied: HeaderField[] = [];
  const from = request.headers;
  from.collect('via', copied);
  from.collect('from', copied);
  const to = toField(request, status, options.toTag);
  if (to === undefined) from.collect('to', copied);
  else copied.push(to);
  from.collect('call-id', copied);
  from.collect('cseq', copied);
  if (status === 100) from.collect('timestamp', copied);
  // every field in the list before the headers are made: a new message has no changes to track
  const extra = options.headers;
  if (extra !== undefined) for (let i = 0; i < extra.length; i++) copied.push(field(extra[i]![0], extra[i]![1]));
  const body = options.body === undefined ? EMPTY : Buffer.from(options.body);
  if (options.contentType !== undefined) copied.push(field('Content-Type', options.contentType));
  copied.push(field('Content-Length', String(body.length)));
  return new SipResponse(status, reasonPhrase(reason), new SipHeaders(copied), body);
}

/** The To field with a tag added, or undefined when the request's To fields are copied as they are. */
function toField(request: SipRequest, status: number, toTag: string | undefined): HeaderField | undefined {
  if (status === 100) return undefined;
  const to = request.headers.first('to');
  if (to === undefined || request.to.params.has('tag')) return undefined;
  return field(to.name, `${to.value};tag=${toTag ?? newTag()}`);
}

/** The answer to a request the parser refused: 400 (or 505, 513) with the fault as the reason; undefined when it cannot be answered. */
export function errorResponse(error: ParseError, options: ResponseOptions = {}): SipResponse | undefined {
  if (!error.answerable || error.request === undefined) return undefined;
  return createResponse(error.request, error.status, error.reason, options);
}
