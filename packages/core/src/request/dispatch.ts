import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { validateHandshake, type HandshakeDecision, type HandshakeOptions } from '@wsgate/handshake';
import type { AccessLog } from '../observe/access-log.js';
import { HeldAccessLines } from '../observe/held-access-lines.js';
import type { ConnectionEntry } from '../connections/connection-entry.js';
import type { ProxyTarget } from './actions.js';
import { HttpError } from '../errors.js';
import type { GatewayMetrics } from '../observe/metrics.js';
import { RouteFailure, runPipeline, type RequestRoute, type Taken } from './pipeline.js';
import { textReply, writeReply, type Carrier, type Reply } from './replies.js';
import { RequestContext } from './request-context.js';
import type { RequestEnv } from './request-facts.js';
import type { WebSocketHub } from '../connections/hub.js';
import { isThenable, type ListenerInfo } from '../vocabulary.js';

/** Until the handshake completes, a reset from the peer must only close its socket. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** How a request ended, for the metrics and the access log. */
interface Ended {
  readonly status: number;
  readonly bytes: number;
  readonly handshakeFailure?: string | undefined;
  /** The WebSocket a 101 opened, terminated or proxied: its access-log line waits for its close. */
  readonly conn?: ConnectionEntry<any> | undefined;
}

/**
 * Takes each request from a listener through the route pipeline, carries out the action it ends with, and
 * counts and logs it at this one place.
 */
export class RequestDispatcher {
  routes: readonly RequestRoute[] = [];
  /** Set on shutdown and by the management API: new WebSockets are refused with 503, open ones stay. */
  refuseWebSockets = false;
  accessLog: AccessLog | undefined;
  /** `limits.routeTimeout` in ms: how long an async route may take to decide (set by the gateway, and on reload). */
  routeTimeoutMs = 5000;
  private readonly heldLines: HeldAccessLines;

  constructor(
    private readonly env: RequestEnv,
    private readonly hub: WebSocketHub,
    private readonly metrics: GatewayMetrics,
  ) {
    this.heldLines = new HeldAccessLines(hub.registry, () => this.accessLog);
  }

  /** A plain request, answered through its ServerResponse. */
  onRequest(listener: ListenerInfo, raw: IncomingMessage, res: Carrier['res'] & object): void {
    void this.handle(listener, raw, { res });
  }

  /** A request node handed over with its raw socket (it carried `Upgrade`). */
  onUpgrade(listener: ListenerInfo, raw: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.handle(listener, raw, { socket, head });
  }

  private handle(listener: ListenerInfo, raw: IncomingMessage, carrier: Carrier): void {
    const started = performance.now();
    const req = new RequestContext(raw, listener, this.env);
    if (!carrier.socket) req.bodySource = raw;
    const outcome = decide(req, this.routes, !carrier.socket);
    if (isThenable(outcome)) {
      // Node's HTTP server let go of an upgraded socket: while async routes run, its errors are ours to take.
      carrier.socket?.on('error', destroyOnError);
      this.whenDecided(started, req, raw, carrier, outcome);
    } else {
      this.commit(started, req, raw, carrier, outcome);
    }
  }

  /**
   * An async route has `routeTimeoutMs` to decide. The timer is armed only here, so sync routes never pay for
   * one; past it the client gets 503 (the gateway itself could not decide in time; 504 is kept for upstreams
   * that time out) and the late outcome is dropped, whatever it is.
   */
  private whenDecided(started: number, req: RequestContext, raw: IncomingMessage, carrier: Carrier, outcome: Promise<Outcome>): void {
    const ms = this.routeTimeoutMs;
    // Unref'd: a request the shutdown already dropped must not hold the process until its deadline.
    const timer = setTimeout(() => this.expire(started, req, carrier, ms), ms).unref();
    void outcome.then((o) => {
      if (req.expired) return;
      clearTimeout(timer);
      this.commit(started, req, raw, carrier, o);
    });
  }

  private expire(started: number, req: RequestContext, carrier: Carrier, ms: number): void {
    req.expired = true;
    const route = req.awaiting ?? '-';
    const seconds = ms / 1000;
    req.log.error({ route, routeTimeout: seconds, method: req.method, url: req.url }, 'route did not finish within limits.routeTimeout; answered 503');
    const reply = textReply(503, 'Service Unavailable', `The route did not answer within ${seconds} s`, true);
    writeReply(carrier, reply);
    this.ended(started, req, { route, kind: 'reply', reply }, { status: 503, bytes: Buffer.byteLength(reply.body) });
  }

  /** Carries the outcome out; a proxy ends later, everything else now (sync routes: on the request's own tick). */
  private commit(started: number, req: RequestContext, raw: IncomingMessage, carrier: Carrier, outcome: Outcome): void {
    if (outcome.kind === 'reply') {
      writeReply(carrier, outcome.reply);
      this.ended(started, req, outcome, { status: outcome.reply.status, bytes: Buffer.byteLength(outcome.reply.body) });
    } else if (outcome.kind === 'handshake') {
      this.ended(started, req, outcome, this.handshake(req, raw, carrier, outcome.options, outcome.route));
    } else {
      void this.proxy(req, raw, carrier, outcome.target).then((ended) => this.ended(started, req, outcome, ended));
    }
  }

  private ended(started: number, req: RequestContext, outcome: Outcome, ended: Ended): void {
    const seconds = (performance.now() - started) / 1000;
    this.metrics.answered({
      listener: req.listener.name,
      route: outcome.route,
      kind: outcome.kind,
      status: ended.status,
      seconds,
      handshakeFailure: ended.handshakeFailure,
      refusedBy: outcome.kind === 'reply' ? outcome.refusedBy : undefined,
    });
    const log = this.accessLog;
    if (log === undefined) return;
    // nginx writes a request's line when it ends: a WebSocket's, when it closes.
    if (ended.status === 101 && ended.conn) this.heldLines.hold(log, ended.conn, { req, status: 101, route: outcome.route }, started);
    else log.write({ req, status: ended.status, bytes: ended.bytes, seconds, route: outcome.route });
  }

  private handshake(req: RequestContext, raw: IncomingMessage, carrier: Carrier, options: HandshakeOptions, route: string): Ended {
    if (this.refuseWebSockets) {
      const reply = textReply(503, 'Service Unavailable', 'The gateway is not accepting WebSockets now', true, { 'Retry-After': '5' });
      writeReply(carrier, reply);
      return { status: 503, bytes: Buffer.byteLength(reply.body), handshakeFailure: 'disabled' };
    }
    let decision: HandshakeDecision;
    try {
      decision = validateHandshake(raw, options);
    } catch (err) {
      // Options the handshake refuses are the route's bug, not the client's: 500 and a line naming the route
      // (docs/design.md convention 3), as for a route that throws.
      req.log.error({ route, err, method: req.method, url: req.url }, 'invalid handshake options from the route; answered 500');
      const reply = textReply(500, 'Internal Server Error', 'Internal Server Error', true);
      writeReply(carrier, reply);
      return { status: 500, bytes: Buffer.byteLength(reply.body), handshakeFailure: 'options' };
    }
    if (!decision.ok) {
      req.log.info({ status: decision.status, reason: decision.reason }, 'handshake refused');
      const reply = textReply(decision.status, STATUS_CODES[decision.status] ?? 'Error', decision.reason, true, { ...decision.headers });
      writeReply(carrier, reply);
      return { status: decision.status, bytes: Buffer.byteLength(reply.body), handshakeFailure: decision.check };
    }
    if (!carrier.socket) {
      // Unreachable with node's parser (Upgrade + Connection: upgrade always arrive as 'upgrade'), kept as a guard.
      writeReply(carrier, textReply(400, 'Bad Request', 'Not an upgrade request', true));
      return { status: 400, bytes: 0, handshakeFailure: 'connection' };
    }
    carrier.socket.removeListener('error', destroyOnError);
    const result = this.hub.accept(req, raw, carrier.socket, carrier.head, decision, options);
    if (result.ok) return { status: 101, bytes: 0, conn: result.conn };
    // 499: nginx's "client closed the request" when the peer left before the 101.
    return { status: result.status ?? 499, bytes: 0, handshakeFailure: result.check ?? 'aborted' };
  }

  /** The target owns the answer; if it fails without giving one, the client still gets a 502 and nothing leaks. */
  private async proxy(req: RequestContext, raw: IncomingMessage, carrier: Carrier, target: ProxyTarget): Promise<Ended> {
    if (carrier.socket && this.refuseWebSockets) {
      const reply = textReply(503, 'Service Unavailable', 'The gateway is not accepting WebSockets now', true, { 'Retry-After': '5' });
      writeReply(carrier, reply);
      return { status: 503, bytes: Buffer.byteLength(reply.body) };
    }
    if (carrier.socket) carrier.socket.removeListener('error', destroyOnError);
    try {
      const result = await target.forward(req, raw, carrier);
      for (const e of result?.upstreamErrors ?? []) this.metrics.upstreamError(e.upstream, e.cause);
      const status = result?.status ?? carrier.res?.statusCode ?? 0;
      const bytes = result?.bytes ?? (carrier.res ? sentBytes(carrier.res.socket) : 0);
      return { status, bytes, conn: req.tracked };
    } catch (err) {
      req.log.error({ err, method: req.method, url: req.url }, 'proxy target threw; answered 502');
      const started = carrier.res ? carrier.res.headersSent : (carrier.socket as Socket).bytesWritten > 0;
      if (started) (carrier.res ?? carrier.socket).destroy();
      else writeReply(carrier, textReply(502, 'Bad Gateway', 'Bad Gateway', true));
      return { status: 502, bytes: 0 };
    }
  }
}

function sentBytes(socket: Socket | null): number {
  return socket ? socket.bytesWritten : 0;
}

/** What a request comes to once the routes have run: a reply to write, a handshake to attempt, or a relay. */
export type Outcome = { readonly route: string } & (
  | { readonly kind: 'reply'; readonly reply: Reply; readonly refusedBy?: string | undefined }
  | { readonly kind: 'handshake'; readonly options: HandshakeOptions }
  | { readonly kind: 'proxy'; readonly target: ProxyTarget }
);

/**
 * Runs the routes and turns their action into an outcome, with no I/O (so `inject()` shares it): no action
 * is 404; an HttpError is its reply; any other exception is the script's bug, a 500 and a log line.
 * Synchronous when the routes are (see runPipeline).
 */
export function decide(req: RequestContext<any>, routes: readonly RequestRoute[], plainHttp: boolean): Outcome | Promise<Outcome> {
  // The header itself: an absolute-form target's host does not stand in for it here (RFC 9112 §3.2).
  if (plainHttp && req.httpVersion === '1.1' && !req.headers.host) {
    return { route: '-', kind: 'reply', reply: textReply(400, 'Bad Request', 'HTTP/1.1 requests must carry a Host header', true) };
  }
  // Routes match, and proxies send, the normalised path: a target that has none is refused before either.
  const problem = req.targetProblem;
  if (problem !== undefined) return { route: '-', kind: 'reply', reply: textReply(400, 'Bad Request', problem, true) };
  let taken: Taken | undefined | Promise<Taken | undefined>;
  try {
    taken = runPipeline(req, routes);
  } catch (err) {
    return failed(req, err);
  }
  if (isThenable(taken)) {
    return taken.then(
      (t) => outcomeOf(req, t),
      (err: unknown) => failed(req, err),
    );
  }
  return outcomeOf(req, taken);
}

function failed(req: RequestContext<any>, err: unknown): Outcome {
  const route = err instanceof RouteFailure ? err.route : '-';
  const cause = err instanceof RouteFailure ? err.cause : err;
  if (cause instanceof HttpError) {
    const status = cause.status;
    return { route, kind: 'reply', reply: textReply(status, STATUS_CODES[status] ?? 'Error', cause.reason, req.replyClose, { ...cause.headers }) };
  }
  if (req.expired) {
    // The dispatcher already answered 503 and drops this outcome; the bug is still worth its line.
    req.log.error({ route, err: cause, method: req.method, url: req.url }, 'route threw after its deadline; the client had its 503');
    return { route, kind: 'reply', reply: textReply(500, 'Internal Server Error', 'Internal Server Error', true) };
  }
  req.log.error({ route, err: cause, method: req.method, url: req.url }, 'route threw; answered 500');
  return { route, kind: 'reply', reply: textReply(500, 'Internal Server Error', 'Internal Server Error', true) };
}

function outcomeOf(req: RequestContext<any>, taken: Taken | undefined): Outcome {
  if (taken === undefined) return { route: '-', kind: 'reply', reply: textReply(404, 'Not found', 'Not found', req.replyClose) };
  const { action, route } = taken;
  if (action.kind === 'handshake') return { route, kind: 'handshake', options: action.options };
  if (action.kind === 'proxy') return { route, kind: 'proxy', target: action.target };
  if (action.kind === 'reply') {
    const headers = action.contentType ? { 'Content-Type': action.contentType, ...action.headers } : action.headers;
    if (action.refusal) req.log.info({ status: action.status, by: action.refusal.by, reason: action.refusal.reason }, 'request refused');
    const reply = { status: action.status, reason: action.reason, headers, body: action.body, close: req.replyClose };
    return { route, kind: 'reply', reply, refusedBy: action.refusal?.by };
  }
  throw new Error(`unreachable: action ${action.kind}`);
}
