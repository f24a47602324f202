import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import type { HandshakeOptions } from '@wsgate/handshake';
import type { ConnectionEntry } from '../connections/connection-entry.js';
import { ProxiedConnection, type TunnelControls } from '../connections/proxied-connection.js';
import { WsgateError } from '../errors.js';
import type { Attributes, ReplyHeaders } from '../vocabulary.js';
import { NEXT, type Action, type ProxyAction, type ProxyTarget, type ReplyAction } from './actions.js';
import { readBody, tooLarge, type BodyOptions } from './request-body.js';
import { detachedString } from './detached-string.js';
import { RequestFacts } from './request-facts.js';
import { checkReplyHeaders } from './response-headers.js';

/**
 * One HTTP request on its way through the route pipeline (docs/design.md convention 6): its facts, and the
 * actions that end it.
 */
export class RequestContext<A extends Attributes = Attributes> extends RequestFacts<A> {
  /** The action the current route took, if any. */
  private taken: Action | undefined;
  private closeAfterReply = false;
  /** @internal Set by the pipeline: the route whose promise it waits for, which a deadline names. */
  awaiting: string | undefined = undefined;
  /**
   * @internal Set by the dispatcher when the route deadline passed and the client had its 503: the pipeline
   * runs no further route, and whatever action the late route takes is dropped.
   */
  expired = false;
  /** @internal The tunnel `track()` listed: the dispatcher writes its access-log line when it closes. */
  tracked: ConnectionEntry<any> | undefined = undefined;
  /** @internal Set by the dispatcher for a plain request (and by `inject()`): where its body comes from. */
  bodySource: Readable | undefined = undefined;
  private bodyRead: Promise<Buffer> | undefined;

  /** Close the connection after the reply (Kamailio's `set_reply_close()`). */
  setReplyClose(): void {
    this.closeAfterReply = true;
  }
  get replyClose(): boolean {
    return this.closeAfterReply;
  }

  /**
   * Answer with an HTTP response (Kamailio's `xhttp_reply()`). A header given as an array is sent as one
   * line per value.
   * @throws {WsgateError} `WSGATE_API_MISUSE` for a status outside 200–599, or a reason or header value
   *   holding CR or LF.
   */
  reply(status: number, reason: string, contentType = '', body: string | Buffer = '', headers: ReplyHeaders = {}): ReplyAction {
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new WsgateError('WSGATE_API_MISUSE', `req.reply(): status must be an integer from 200 to 599, got ${status}`);
    }
    if (/[\r\n]/.test(reason)) throw new WsgateError('WSGATE_API_MISUSE', 'req.reply(): reason must not contain CR or LF');
    checkReplyHeaders('req.reply()', headers);
    return this.take({ kind: 'reply', status, reason, contentType, body, headers });
  }

  /**
   * Refuse access: a reply with the standard reason phrase and `reason` as its plain-text body, logged with
   * the client's real IP and counted by `by` (the module that refused: `origin`, `basic`, `rate-limit`…).
   * A header given as an array is sent as one line per value (digest's SHA-256 and MD5 challenges).
   * @throws {WsgateError} `WSGATE_API_MISUSE` for a status outside 400–599 or a header value holding CR or LF.
   */
  refuse(status: number, by: string, reason: string, headers: ReplyHeaders = {}): ReplyAction {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new WsgateError('WSGATE_API_MISUSE', `req.refuse(): status must be an integer from 400 to 599, got ${status}`);
    }
    checkReplyHeaders('req.refuse()', headers);
    return this.take({
      kind: 'reply',
      status,
      reason: STATUS_CODES[status] ?? 'Error',
      contentType: 'text/plain; charset=utf-8',
      body: `${reason}\n`,
      headers,
      refusal: { by, reason },
    });
  }

  /** Upgrade to a WebSocket terminated here (Kamailio's `ws_handle_handshake()`); a bad handshake gets its precise error. */
  handshake(options: HandshakeOptions = {}): Action {
    return this.take({ kind: 'handshake', options });
  }

  /**
   * The request body, read whole, at most `limit` bytes: for routes that answer requests themselves (an XCAP
   * PUT). Read once: later calls share the first read, each checked against its own `limit`. An upgrade
   * request has no body here (empty). Bounded in time by `limits.routeTimeout`, like the route.
   * @throws {HttpError} 413 past `limit` (known from `Content-Length` before reading, or counted while
   *   reading), 400 when the client leaves before the end; the reply then closes the connection. Let it
   *   through and the gateway answers it.
   * @throws {WsgateError} `WSGATE_API_MISUSE` for a `limit` that is not a whole number of bytes.
   * @example
   * const xml = (await req.body({ limit: 1_048_576 })).toString('utf8');
   */
  body(options: BodyOptions): Promise<Buffer> {
    const { limit } = options;
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new WsgateError('WSGATE_API_MISUSE', `req.body(): limit must be a whole number of bytes, got ${String(limit)}`);
    }
    const source = this.bodySource;
    this.bodyRead ??= source === undefined ? Promise.resolve(Buffer.alloc(0)) : readBody(source, this.header('content-length'), limit);
    return this.bodyRead.then(
      (body) => {
        if (body.length > limit) throw tooLarge(limit);
        return body;
      },
      (err: unknown) => {
        // The rest of the body is unread: the connection cannot carry another request.
        this.setReplyClose();
        throw err;
      },
    );
  }

  /**
   * Relay the request, WebSocket or plain HTTP, to an upstream (nginx's `proxy_pass`).
   * @throws {WsgateError} `WSGATE_API_MISUSE` after `req.body()` read the body: there is none left to relay.
   */
  proxy(target: ProxyTarget): ProxyAction {
    if (this.bodyRead !== undefined && this.bodySource !== undefined) {
      throw new WsgateError('WSGATE_API_MISUSE', 'req.proxy() called after req.body(): the body was read here and cannot be relayed');
    }
    return this.take({ kind: 'proxy', target });
  }

  /**
   * For proxy targets: list the tunnel this request opened in the gateway's registry, so that it is listed
   * (`wsgate ctl list`), closed by id, revoked with the token that opened it and counted per client. Report
   * its traffic with `record()` and its end with `ended()`.
   */
  track(controls: TunnelControls): ProxiedConnection<A> {
    const registry = this.env.connections;
    const origin = this.origin;
    const entry = new ProxiedConnection<A>(
      registry.nextId(),
      controls,
      // Kept as long as the tunnel: copies, so that they do not keep the request head they were cut from.
      { listener: this.listener, remoteAddress: this.clientIp, remotePort: this.clientPort, path: detachedString(this.path), origin: origin === undefined ? undefined : detachedString(origin), attributes: this.attributes },
      registry,
    );
    registry.add(entry as unknown as ConnectionEntry<any>);
    this.tracked = entry as unknown as ConnectionEntry<any>;
    return entry;
  }

  /** Leave the request to the next mounted handler; after the last, `404 Not found`. */
  next(): Action {
    return this.take(NEXT);
  }

  private take<T extends Action>(action: T): T {
    if (this.taken) {
      throw new WsgateError(
        'WSGATE_ACTION_TWICE',
        `req.${verb(action)}() called after req.${verb(this.taken)}(): a route ends a request with one action`,
      );
    }
    this.taken = action;
    return action;
  }

  /** @internal The pipeline reads and clears the action between mounted handlers. */
  takeAction(): Action | undefined {
    const action = this.taken;
    this.taken = undefined;
    return action;
  }

}
function verb(action: Action): string {
  return action.kind;
}
