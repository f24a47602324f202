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

/** How a view reads its header: from the message's fields, by key (`headerKey()`). */
type Reader<T> = (headers: SipHeaders, key: string) => T;

/**
 * The reader of a header that must appear once (`required`) or at most once, made once per header (a view's
 * reader is not made per call).
 */
function single<T>(required: boolean, read: (value: string) => T): Reader<T | undefined> {
  return (headers, key) => {
    const v = headers.only(key);
    if (v === null) throw new CountError(`more than one ${canonicalName(key)} header`);
    if (v === undefined) {
      if (required) throw new CountError(`missing ${canonicalName(key)} header`);
      return undefined;
    }
    return read(v);
  };
}

/** A list header's reader: `read` applied to every field's value, the results in one list. */
function list<T>(read: (value: string) => T[]): Reader<T[]> {
  return (headers, key) => {
    const values = headers.getAll(key);
    return values.length === 1 ? read(values[0]!) : values.flatMap(read);
  };
}

/** A reader of each field's value on its own (credentials, challenges). */
function each<T>(read: (value: string) => T): Reader<T[]> {
  return (headers, key) => headers.getAll(key).map(read);
}

const READ_VIAS: Reader<Via[]> = (headers, key) => {
  const values = headers.getAll(key);
  if (values.length === 0) throw new CountError('missing Via header');
  return values.length === 1 ? parseVias(values[0] as string) : values.flatMap(parseVias);
};
const READ_NAME_ADDR = single(true, parseNameAddr) as Reader<NameAddr>;
const READ_CALL_ID = single(true, (v) => (checkCallId(v), v)) as Reader<string>;
const READ_CSEQ = single(true, parseCSeq) as Reader<CSeq>;
const READ_MAX_FORWARDS = single(false, (v) => parseNumber(v, 255, 3, 'value'));
const READ_CONTENT_LENGTH = single(false, (v) => parseNumber(v, 2 ** 31 - 1, 10, 'value'));
const READ_CONTENT_TYPE = single(false, parseMediaType);
const READ_EXPIRES = single(false, (v) => deltaSeconds(v, 'value'));
const READ_ROUTE_LIST = list((v) => parseNameAddrList(v, true));
const READ_CONTACTS: Reader<Contact[] | '*'> = (headers, key) => {
  const all = headers.getAll(key).map(parseContacts);
  if (all.includes('*')) {
    if (all.length > 1) throw new CountError('* must be the only Contact');
    return '*';
  }
  return (all as Contact[][]).flat();
};
const READ_AUTH = each(parseAuth);
const READ_TOKENS = list(parseTokenList);

/** A view read as `undefined` (an optional header absent), told apart from one not read yet. */
const ABSENT = Symbol('absent');

/**
 * The views every message has read before the parser returns it, each in a slot of its own (no map entry):
 * the value at 2 × slot, the headers' `version` it was read at 2 × slot + 1.
 */
const VIA = 0;
const FROM = 1;
const TO = 2;
const CALL_ID = 3;
const CSEQ = 4;
const MAX_FORWARDS = 5;
const CONTENT_LENGTH = 6;
const CONTENT_TYPE = 7;
const SLOTS = 8;

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
  /** The essential views' slots (see SLOTS), made on the first view read. */
  private slots: unknown[] | undefined;
  /** The other views read, by cache key: the value, and the headers' `version` it was read at when not 0. */
  private views: Map<string, unknown> | undefined;
  private viewsAt: Map<string, number> | undefined;

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
  protected view<T>(key: string, read: Reader<T>, cacheKey = key): T {
    const views = this.views;
    const hit = views?.get(cacheKey);
    if (hit !== undefined && (this.viewsAt?.get(cacheKey) ?? 0) >= this.headers.changedAt(key)) return (hit === ABSENT ? undefined : hit) as T;
    const value = this.read(key, read);
    (this.views ??= new Map()).set(cacheKey, value === undefined ? ABSENT : value);
    const version = this.headers.version;
    if (version !== 0) (this.viewsAt ??= new Map()).set(cacheKey, version);
    else this.viewsAt?.delete(cacheKey);
    return value;
  }

  /** `view()` for the essential headers, kept in a slot. */
  private slot<T>(slot: number, key: string, read: Reader<T>): T {
    const slots = (this.slots ??= new Array(2 * SLOTS));
    const hit = slots[2 * slot];
    if (hit !== undefined && (slots[2 * slot + 1] as number) >= this.headers.changedAt(key)) return (hit === ABSENT ? undefined : hit) as T;
    const value = this.read(key, read);
    slots[2 * slot] = value === undefined ? ABSENT : value;
    slots[2 * slot + 1] = this.headers.version;
    return value;
  }

  private read<T>(key: string, read: Reader<T>): T {
    try {
      return read(this.headers, key);
    } catch (e) {
      if (!(e instanceof SipSyntaxError)) throw e;
      const text = e instanceof CountError ? e.reason : `invalid ${canonicalName(key)} header: ${e.reason}`;
      throw new ParseError(e.status, text, this.kind === 'request' ? (this as unknown as SipRequest) : undefined);
    }
  }

  /** Every Via value, top first, across all Via fields. */
  get via(): readonly Via[] {
    return this.slot(VIA, 'via', READ_VIAS);
  }

  get topVia(): Via {
    return this.via[0] as Via;
  }

  get from(): NameAddr {
    return this.slot(FROM, 'from', READ_NAME_ADDR);
  }

  get to(): NameAddr {
    return this.slot(TO, 'to', READ_NAME_ADDR);
  }

  get fromTag(): string | undefined {
    return tagOf(this.from);
  }

  get toTag(): string | undefined {
    return tagOf(this.to);
  }

  get callId(): string {
    return this.slot(CALL_ID, 'call-id', READ_CALL_ID);
  }

  get cseq(): CSeq {
    return this.slot(CSEQ, 'cseq', READ_CSEQ);
  }

  /** 0 to 255 (RFC 3261 §20.22) */
  get maxForwards(): number | undefined {
    return this.slot(MAX_FORWARDS, 'max-forwards', READ_MAX_FORWARDS);
  }

  get contentLength(): number | undefined {
    return this.slot(CONTENT_LENGTH, 'content-length', READ_CONTENT_LENGTH);
  }

  get contentType(): MediaType | undefined {
    return this.slot(CONTENT_TYPE, 'content-type', READ_CONTENT_TYPE);
  }

  /** Contact values across all Contact fields; `*` only alone (RFC 3261 §10.2.2). */
  contacts(): Contact[] | '*' {
    return this.view('contact', READ_CONTACTS);
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
    return this.view('authorization', READ_AUTH);
  }

  proxyAuthorizations(): AuthValue[] {
    return this.view('proxy-authorization', READ_AUTH);
  }

  wwwAuthenticates(): AuthValue[] {
    return this.view('www-authenticate', READ_AUTH);
  }

  proxyAuthenticates(): AuthValue[] {
    return this.view('proxy-authenticate', READ_AUTH);
  }

  /** A list of tokens across a header's fields (Supported, Require, Allow …). */
  tokens(name: string): string[] {
    const key = headerKey(name);
    return this.view(key, READ_TOKENS, `tokens ${key}`);
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
