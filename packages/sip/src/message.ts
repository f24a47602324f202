import { SipSyntaxError } from './errors.js';
import { canonicalName, headerKey } from './header-names.js';
import { SipHeaders } from './headers.js';
import { type Contact, deltaSeconds, type NameAddr, parseContacts, parseNameAddr, parseNameAddrList, tagOf } from './name-addr.js';
import { formatUri, parseUri, type Uri } from './uri.js';
import {
  type AuthValue,
  checkCallId,
  type CSeq,
  type MediaType,
  parseAuth,
  parseCSeq,
  parseMediaType,
  parseNumber,
  parseTokenList,
} from './values.js';
import { parseVias, type Via } from './via.js';

/**
 * Why a frame is not a SIP message the gateway can use, or a header of a parsed message cannot be read.
 * `answerable` is true when a response can be built (a request, not ACK, whose start line, Via, From, To,
 * Call-ID and CSeq were read): then `request` holds what was read, for `errorResponse()`. Otherwise the frame
 * is dropped and counted.
 */
export class ParseError extends SipSyntaxError {
  override name = 'ParseError';
  readonly answerable: boolean;
  readonly request: SipRequest | undefined;

  constructor(status: 400 | 505 | 513, reason: string, request?: SipRequest) {
    super(status, reason);
    this.request = request && request.method !== 'ACK' ? request : undefined;
    this.answerable = this.request !== undefined;
  }

  /** The same fault, now known to belong to `request` (or to no answerable one). */
  withRequest(request: SipRequest | undefined): ParseError {
    return new ParseError(this.status, this.reason, request);
  }
}

/** A header missing, or there more often than allowed: the reason says it all. */
class CountError extends SipSyntaxError {
  constructor(reason: string) {
    super(400, reason);
  }
}

/**
 * The reader of a header that must appear once (`required`) or at most once, made once per header (a view's
 * reader is not made per call).
 */
function single<T>(required: boolean, read: (value: string) => T): (values: string[], key: string) => T | undefined {
  return (values, key) => {
    if (values.length > 1) throw new CountError(`more than one ${canonicalName(key)} header`);
    const v = values[0];
    if (v === undefined) {
      if (required) throw new CountError(`missing ${canonicalName(key)} header`);
      return undefined;
    }
    return read(v);
  };
}

function readVias(values: string[]): Via[] {
  if (values.length === 0) throw new CountError('missing Via header');
  return values.length === 1 ? parseVias(values[0] as string) : values.flatMap(parseVias);
}

const READ_NAME_ADDR = single(true, parseNameAddr) as (values: string[], key: string) => NameAddr;
const READ_CALL_ID = single(true, (v) => (checkCallId(v), v)) as (values: string[], key: string) => string;
const READ_CSEQ = single(true, parseCSeq) as (values: string[], key: string) => CSeq;
const READ_MAX_FORWARDS = single(false, (v) => parseNumber(v, 255, 3, 'value'));
const READ_CONTENT_LENGTH = single(false, (v) => parseNumber(v, 2 ** 31 - 1, 10, 'value'));
const READ_CONTENT_TYPE = single(false, parseMediaType);
const READ_EXPIRES = single(false, (v) => deltaSeconds(v, 'value'));
const READ_ROUTE_LIST = (values: string[]): NameAddr[] => values.flatMap((v) => parseNameAddrList(v, true));

/**
 * A SIP message. Typed views of its headers are read on first use and kept until the headers change; a view
 * of a malformed header throws a ParseError (400, answerable for a request) naming the header. The parser
 * reads Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Length and Content-Type before it returns, so
 * those never throw on a parsed message; the others (Contact, Route, Expires, credentials …) are checked when
 * first read, or by the parser with `validateAll`.
 */
abstract class SipMessageBase {
  readonly headers: SipHeaders;
  private content: Buffer;
  /** The start line as received; written back unchanged until the start line changes. */
  startLine: string | undefined;
  /** Views read, by cache key: the value and the headers' `version` when it was read. */
  private readonly cache = new Map<string, { readonly at: number; readonly value: unknown }>();

  protected constructor(headers: SipHeaders, body: Buffer) {
    this.headers = headers;
    this.content = body;
  }

  abstract get kind(): 'request' | 'response';

  get body(): Buffer {
    return this.content;
  }

  /** The body as UTF-8 text. */
  bodyText(): string {
    return this.content.toString('utf8');
  }

  /** Replaces the body; a Content-Length present follows it, Content-Type is set when given. */
  setBody(body: Buffer | string, contentType?: string): this {
    this.content = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (this.headers.has('content-length')) this.headers.set('Content-Length', String(this.content.length));
    if (contentType !== undefined) this.headers.set('Content-Type', contentType);
    return this;
  }

  /**
   * A typed view, read again only once fields of its name changed; faults become ParseErrors naming the
   * header. `read` is a function made once (not per call): views are read many times per message.
   */
  protected view<T>(key: string, read: (values: string[], key: string) => T, cacheKey = key): T {
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined && cached.at >= this.headers.changedAt(key)) return cached.value as T;
    let value: T;
    try {
      value = read(this.headers.getAll(key), key);
    } catch (e) {
      if (!(e instanceof SipSyntaxError)) throw e;
      const text = e instanceof CountError ? e.reason : `invalid ${canonicalName(key)} header: ${e.reason}`;
      throw new ParseError(e.status, text, this.kind === 'request' ? (this as unknown as SipRequest) : undefined);
    }
    this.cache.set(cacheKey, { at: this.headers.version, value });
    return value;
  }

  /** Every Via value, top first, across all Via fields. */
  get via(): readonly Via[] {
    return this.view('via', readVias);
  }

  get topVia(): Via {
    return this.via[0] as Via;
  }

  get from(): NameAddr {
    return this.view('from', READ_NAME_ADDR);
  }

  get to(): NameAddr {
    return this.view('to', READ_NAME_ADDR);
  }

  get fromTag(): string | undefined {
    return tagOf(this.from);
  }

  get toTag(): string | undefined {
    return tagOf(this.to);
  }

  get callId(): string {
    return this.view('call-id', READ_CALL_ID);
  }

  get cseq(): CSeq {
    return this.view('cseq', READ_CSEQ);
  }

  /** 0 to 255 (RFC 3261 §20.22) */
  get maxForwards(): number | undefined {
    return this.view('max-forwards', READ_MAX_FORWARDS);
  }

  get contentLength(): number | undefined {
    return this.view('content-length', READ_CONTENT_LENGTH);
  }

  get contentType(): MediaType | undefined {
    return this.view('content-type', READ_CONTENT_TYPE);
  }

  /** Contact values across all Contact fields; `*` only alone (RFC 3261 §10.2.2). */
  contacts(): Contact[] | '*' {
    return this.view('contact', (values) => {
      const all = values.map(parseContacts);
      if (all.includes('*')) {
        if (all.length > 1) throw new CountError('* must be the only Contact');
        return '*';
      }
      return (all as Contact[][]).flat();
    });
  }

  routes(): NameAddr[] {
    return this.view('route', READ_ROUTE_LIST);
  }

  recordRoutes(): NameAddr[] {
    return this.view('record-route', READ_ROUTE_LIST);
  }

  paths(): NameAddr[] {
    return this.view('path', READ_ROUTE_LIST);
  }

  expires(): number | undefined {
    return this.view('expires', READ_EXPIRES);
  }

  authorizations(): AuthValue[] {
    return this.view('authorization', (values) => values.map(parseAuth));
  }

  proxyAuthorizations(): AuthValue[] {
    return this.view('proxy-authorization', (values) => values.map(parseAuth));
  }

  wwwAuthenticates(): AuthValue[] {
    return this.view('www-authenticate', (values) => values.map(parseAuth));
  }

  proxyAuthenticates(): AuthValue[] {
    return this.view('proxy-authenticate', (values) => values.map(parseAuth));
  }

  /** A list of tokens across a header's fields (Supported, Require, Allow …). */
  tokens(name: string): string[] {
    const key = headerKey(name);
    return this.view(key, (values) => values.flatMap(parseTokenList), `tokens ${key}`);
  }
}

export class SipRequest extends SipMessageBase {
  readonly method: string;
  private target: string;
  private parsedUri: Uri | undefined;

  constructor(method: string, requestUri: string | Uri, headers = new SipHeaders(), body: Buffer = Buffer.alloc(0)) {
    super(headers, body);
    this.method = method;
    this.target = typeof requestUri === 'string' ? requestUri : formatUri(requestUri);
  }

  get kind(): 'request' {
    return 'request';
  }

  /** The Request-URI as written. */
  get requestUri(): string {
    return this.target;
  }

  get uri(): Uri {
    if (this.parsedUri === undefined) {
      try {
        this.parsedUri = parseUri(this.target);
      } catch (e) {
        if (!(e instanceof SipSyntaxError)) throw e;
        throw new ParseError(400, `invalid Request-URI: ${e.reason}`, this);
      }
    }
    return this.parsedUri;
  }

  /** A new Request-URI (a proxy's next hop); the start line is written anew. */
  setRequestUri(uri: string | Uri): this {
    const text = typeof uri === 'string' ? uri : formatUri(uri);
    this.parsedUri = parseUri(text);
    this.target = text;
    this.startLine = undefined;
    return this;
  }
}

export class SipResponse extends SipMessageBase {
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, headers = new SipHeaders(), body: Buffer = Buffer.alloc(0)) {
    super(headers, body);
    this.status = status;
    this.reason = reason;
  }

  get kind(): 'response' {
    return 'response';
  }
}

export type SipMessage = SipRequest | SipResponse;
