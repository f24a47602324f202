import { randomHex } from '@wsgate/core';
import { REASON } from './chars.js';
import { field, SipHeaders } from './headers.js';
import { type ParseError, type SipRequest, SipResponse } from './message.js';

export interface ResponseOptions {
  /** The To tag to add when the request's To has none (default: a new random tag). */
  toTag?: string;
  /** More headers, after the copied ones. */
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer | string;
  contentType?: string;
}

/** A new To tag: 64 random bits as hex. */
export function newTag(): string {
  return randomHex(8);
}

/** Text made fit for a Reason-Phrase: characters the grammar forbids become spaces, at most 120 characters. */
export function reasonPhrase(text: string): string {
  let s = '';
  for (let i = 0; i < text.length && s.length < 120; i++) {
    const c = text.charCodeAt(i);
    s += (c < 128 && REASON[c] !== 1) || c === 37 ? ' ' : text[i];
  }
  return s;
}

/**
 * A response to `request` as RFC 3261 §8.2.6 builds it: Via fields, From, Call-ID and CSeq copied as received,
 * To copied with a tag added when it has none (not on a 100), Timestamp copied on a 100, Content-Length set.
 */
export function createResponse(request: SipRequest, status: number, reason: string, options: ResponseOptions = {}): SipResponse {
  const headers = new SipHeaders([
    ...request.headers.fields('via'),
    ...request.headers.fields('from'),
    ...toFields(request, status, options.toTag),
    ...request.headers.fields('call-id'),
    ...request.headers.fields('cseq'),
    ...(status === 100 ? request.headers.fields('timestamp') : []),
  ]);
  for (const [name, value] of options.headers ?? []) headers.add(name, value);
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body);
  if (options.contentType !== undefined) headers.add('Content-Type', options.contentType);
  headers.add('Content-Length', String(body.length));
  return new SipResponse(status, reasonPhrase(reason), headers, body);
}

function toFields(request: SipRequest, status: number, toTag: string | undefined) {
  const fields = request.headers.fields('to');
  const to = fields[0];
  if (to === undefined || status === 100 || request.to.params.has('tag')) return fields;
  return [field(to.name, `${to.value};tag=${toTag ?? newTag()}`)];
}

/** The answer to a request the parser refused: 400 (or 505, 513) with the fault as the reason; undefined when it cannot be answered. */
export function errorResponse(error: ParseError, options: ResponseOptions = {}): SipResponse | undefined {
  if (!error.answerable || error.request === undefined) return undefined;
  return createResponse(error.request, error.status, error.reason, options);
}
