import type { IncomingHttpHeaders } from 'node:http';
import { parseCookie } from 'cookie';
import type { ConnectionRegistrar } from '../connections/registry.js';
import { clientAddressOf, type RealIpResolver } from '../ingress/real-ip.js';
import type { Logger } from '../observe/logger.js';
import type { Attributes, ClientAddress, ListenerInfo } from '../vocabulary.js';
import { detachedString } from './detached-string.js';
import type { HostMatcher } from './host-matcher.js';
import { parseRequestTarget, TargetSyntaxError, type RequestTarget } from './request-target.js';

/** What a request context reads from a request: node's IncomingMessage fits, and so does `inject()`'s. */
export interface RequestHead {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly socket: {
    readonly localAddress?: string | undefined;
    readonly localPort?: number | undefined;
    readonly remoteAddress?: string | undefined;
    readonly remotePort?: number | undefined;
  };
}


/** What the gateway lends every request: its own names for `isMyself()`, and where to log. */
export interface RequestEnv {
  readonly myself: HostMatcher;
  readonly logger: Logger;
  /** Resolves the client's address from trusted proxies' headers (the config's `realIp`). */
  readonly realIp?: RealIpResolver | undefined;
  /** Where `req.track()` registers the tunnels proxy targets open: the gateway's in-process registry. */
  readonly connections: ConnectionRegistrar;
}

/** What a request without cookies, or without attributes yet, reads: one shared empty object. */
const EMPTY: Readonly<Record<string, never>> = Object.freeze({});

/** What a refused request target reads as: routes never see it, the dispatcher answers 400 first. */
const REFUSED: RequestTarget = Object.freeze({ authority: undefined, path: '/', search: '', originForm: '/' });

/**
 * What a request says and what the gateway knows of it (docs/design.md convention 6): read-only accessors,
 * computed on first use, and the typed attribute bag that the connection inherits. Routes get it as a
 * `RequestContext`, which adds the actions that end a request.
 */
export class RequestFacts<A extends Attributes = Attributes> {
  private attrs: Partial<A> | undefined;
  private parsedTarget: RequestTarget | undefined;
  private targetRefusal: string | undefined;
  private searchParams: URLSearchParams | undefined;
  private cookieJar: Readonly<Record<string, string | undefined>> | undefined;
  private boundLog: Logger | undefined;
  private client: ClientAddress | undefined;

  constructor(
    /** The underlying request (node's IncomingMessage on a live gateway). */
    readonly raw: RequestHead,
    readonly listener: ListenerInfo,
    protected readonly env: RequestEnv,
  ) {}

  /** The port the request arrived on (Kamailio's `$Rp`). */
  get port(): number {
    return this.listener.port;
  }
  get localAddress(): string {
    return this.raw.socket.localAddress ?? '';
  }
  get localPort(): number {
    return this.raw.socket.localPort ?? this.listener.port;
  }
  /** The TCP peer's address (what real-client-IP resolution starts from). */
  get remoteAddress(): string {
    return this.raw.socket.remoteAddress ?? '';
  }
  get remotePort(): number {
    return this.raw.socket.remotePort ?? 0;
  }
  /**
   * The client's real address: the TCP peer's, or what a trusted proxy says (see `realIp` in the config).
   * Logs, limits, hooks and the connection registry use this one.
   */
  get clientIp(): string {
    return (this.client ??= clientAddressOf(this.raw, this.env.realIp)).ip;
  }
  /** The client's port; 0 when a proxy told the address without one. */
  get clientPort(): number {
    return (this.client ??= clientAddressOf(this.raw, this.env.realIp)).port;
  }

  /** True on a TLS listener. */
  get secure(): boolean {
    return this.listener.tls;
  }
  get method(): string {
    return this.raw.method ?? 'GET';
  }
  /** The request target as received, e.g. `/ws?room=1`. */
  get url(): string {
    return this.raw.url ?? '/';
  }
  /**
   * The path of the request target, without the query, normalised as nginx does before matching locations:
   * `//` merged, `.` and `..` resolved, unreserved characters decoded (`/%61` → `/a`), every other escape kept,
   * in upper case (`%2F` stays `%2F`: never a separator). A proxy sends this path upstream.
   */
  get path(): string {
    return this.parsed.path;
  }
  /** The query with its `?`, as received (`?room=1`); empty when there is none. */
  get search(): string {
    return this.parsed.search;
  }
  /** `path` and `search`: the request target in origin-form, as a proxy sends it upstream (`/a/b?x=1`). */
  get target(): string {
    return this.parsed.originForm;
  }
  get query(): URLSearchParams {
    return (this.searchParams ??= new URLSearchParams(this.parsed.search));
  }
  /**
   * Why the request target is refused (a bad percent-escape, `..` above the root, a fragment…), or undefined.
   * The gateway answers such a request 400 with this reason before any route runs.
   */
  get targetProblem(): string | undefined {
    return this.parsed === REFUSED ? this.targetRefusal : undefined;
  }
  /** The request target parsed once (request/request-target.ts); a plain path costs one regex test. */
  private get parsed(): RequestTarget {
    if (this.parsedTarget === undefined) {
      try {
        this.parsedTarget = parseRequestTarget(this.url, this.method);
      } catch (err) {
        if (!(err instanceof TargetSyntaxError)) throw err;
        this.targetRefusal = err.message;
        this.parsedTarget = REFUSED;
      }
    }
    return this.parsedTarget;
  }
  /** `1.1` for HTTP/1.1. */
  get httpVersion(): string {
    return `${this.raw.httpVersionMajor}.${this.raw.httpVersionMinor}`;
  }
  /** All headers, names in lower case; repeated headers joined as node joins them. */
  get headers(): IncomingHttpHeaders {
    return this.raw.headers;
  }

  /** A header's value (case-insensitive name); repeated headers joined with ", " (cookies with "; "). */
  header(name: string): string | undefined {
    const value = this.raw.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /** Every occurrence of a header, in the order received. */
  headerValues(name: string): string[] {
    const wanted = name.toLowerCase();
    const raw = this.raw.rawHeaders;
    const out: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if (raw[i]!.toLowerCase() === wanted) out.push(raw[i + 1]!);
    }
    return out;
  }

  /**
   * The host the request is for: the `Host` header, or an absolute-form target's authority (`GET
   * http://a.example/x`), which the server must use instead of the header (RFC 9112 §3.2.2).
   */
  get host(): string | undefined {
    return (this.url.charCodeAt(0) === 47 ? undefined : this.parsed.authority) ?? (this.raw.headers.host || undefined);
  }
  get origin(): string | undefined {
    return this.header('origin');
  }

  /** Cookies of the `Cookie` header (RFC 6265); the first of a repeated name wins. */
  get cookies(): Readonly<Record<string, string | undefined>> {
    // Not frozen: this request's own object, and freezing it cost about 1 µs a handshake (a profile of S2).
    this.cookieJar ??= this.raw.headers.cookie ? parseCookie(this.raw.headers.cookie) : EMPTY;
    return this.cookieJar;
  }
  cookie(name: string): string | undefined {
    return this.cookies[name];
  }

  /**
   * A `GET` asking for a WebSocket: `Upgrade` names `websocket` and `Connection` names `upgrade`
   * (Kamailio's `$hdr(Upgrade)=~"websocket" && $hdr(Connection)=~"Upgrade" && $rm=~"GET"`, by tokens).
   */
  get isWebSocketUpgrade(): boolean {
    const { upgrade, connection } = this.raw.headers;
    return (
      this.method === 'GET' &&
      upgrade !== undefined &&
      connection !== undefined &&
      hasToken(upgrade, 'websocket') &&
      hasToken(connection, 'upgrade')
    );
  }

  /** Is `host` one of the gateway's names or addresses (with a port: one of its ports)? Kamailio's `is_myself()`. */
  isMyself(host: string): boolean {
    return this.env.myself.matches(host);
  }

  /**
   * The attribute bag, handed on to the WebSocket connection this request becomes. Set with `set()`: until
   * something is set, this is one shared empty (frozen) bag, so that a connection without attributes holds none.
   */
  get attributes(): Readonly<Partial<A>> {
    return this.attrs ?? (EMPTY as Partial<A>);
  }
  get<K extends keyof A>(key: K): A[K] | undefined {
    return this.attrs?.[key];
  }
  set<K extends keyof A>(key: K, value: A[K]): void {
    // The connection keeps its attributes for its life: a string cut from the request (a user name, a token)
    // is copied, or it would keep the request head alive with it.
    (this.attrs ??= {} as Partial<A>)[key] = typeof value === 'string' ? (detachedString(value) as A[K]) : value;
  }

  /** A logger whose lines carry the listener and the client's address. */
  get log(): Logger {
    this.boundLog ??= requestLogger(this.env.logger, this.listener.name, this.clientIp, this.clientPort);
    return this.boundLog;
  }

  /**
   * @internal `log` for later, without the request: what a tunnel keeps for its closing line. Holding the
   * request instead would keep its message, headers and context alive as long as the tunnel (the proxy's
   * heap profiles: they were promoted out of the young generation with every tunnel open at a scavenge).
   */
  logLater(): () => Logger {
    const made = this.boundLog;
    if (made !== undefined) return () => made;
    const { logger } = this.env;
    const listener = this.listener.name;
    const ip = this.clientIp;
    const port = this.clientPort;
    let log: Logger | undefined;
    return () => (log ??= requestLogger(logger, listener, ip, port));
  }
}

/** The child logger of a request: its lines carry the listener and the client's address. */
function requestLogger(logger: Logger, listener: string, ip: string, port: number): Logger {
  return logger.child({ listener, client: `${ip}:${port}` });
}

/** Does a comma-separated header contain `token` (case-insensitive, whole elements only)? */
export function hasToken(header: string, token: string): boolean {
  // The usual header is the token alone ("websocket", "Upgrade"): no list to split.
  if (header.length === token.length) return header.toLowerCase() === token;
  for (const part of header.split(',')) {
    const element = part.trim();
    const slash = element.indexOf('/');
    const name = slash < 0 ? element : element.slice(0, slash);
    if (name.length === token.length && name.toLowerCase() === token) return true;
  }
  return false;
}
