import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { validateHandshake, type HandshakeOptions } from '@wsgate/handshake';
import type { Action, ProxyTarget } from './actions.js';
import { HttpError } from './errors.js';
import { RouteFailure, runPipeline, type RequestRoute } from './pipeline.js';
import { textReply, writeReply, type Carrier, type Reply } from './replies.js';
import { RequestContext, type ListenerInfo, type RequestEnv } from './request-context.js';
import type { WebSocketHub } from './websockets.js';

/** Until the handshake completes, a reset from the peer must only close its socket. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

/**
 * Takes each request from a listener through the route pipeline and carries out the action it ends with.
 */
export class RequestDispatcher {
  routes: readonly RequestRoute[] = [];
  /** Set on shutdown: new WebSockets are refused with 503 while open ones drain. */
  refuseWebSockets = false;

  constructor(
    private readonly env: RequestEnv,
    private readonly hub: WebSocketHub,
  ) {}

  /** A plain request, answered through its ServerResponse. */
  onRequest(listener: ListenerInfo, raw: IncomingMessage, res: Carrier['res'] & object): void {
    void this.handle(listener, raw, { res });
  }

  /** A request node handed over with its raw socket (it carried `Upgrade`). */
  onUpgrade(listener: ListenerInfo, raw: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', destroyOnError);
    void this.handle(listener, raw, { socket, head });
  }

  private async handle(listener: ListenerInfo, raw: IncomingMessage, carrier: Carrier): Promise<void> {
    const req = new RequestContext(raw, listener, this.env);
    const outcome = await decide(req, this.routes, !carrier.socket);
    if (outcome.kind === 'reply') writeReply(carrier, outcome.reply);
    else if (outcome.kind === 'handshake') await this.handshake(req, raw, carrier, outcome.options);
    else await this.proxy(req, raw, carrier, outcome.target);
  }

  private async handshake(req: RequestContext, raw: IncomingMessage, carrier: Carrier, options: HandshakeOptions): Promise<void> {
    if (this.refuseWebSockets) {
      writeReply(carrier, textReply(503, 'Service Unavailable', 'The gateway is not accepting WebSockets now', true, { 'Retry-After': '5' }));
      return;
    }
    const decision = validateHandshake(raw, options);
    if (!decision.ok) {
      req.log.info({ status: decision.status, reason: decision.reason }, 'handshake refused');
      writeReply(carrier, textReply(decision.status, STATUS_CODES[decision.status] ?? 'Error', decision.reason, true, { ...decision.headers }));
      return;
    }
    if (!carrier.socket) {
      // Unreachable with node's parser (Upgrade + Connection: upgrade always arrive as 'upgrade'), kept as a guard.
      writeReply(carrier, textReply(400, 'Bad Request', 'Not an upgrade request', true));
      return;
    }
    carrier.socket.removeListener('error', destroyOnError);
    await this.hub.accept(req, raw, carrier.socket, carrier.head, decision, options);
  }

  /** The target owns the answer; if it fails without giving one, the client still gets a 502 and nothing leaks. */
  private async proxy(req: RequestContext, raw: IncomingMessage, carrier: Carrier, target: ProxyTarget): Promise<void> {
    if (carrier.socket) carrier.socket.removeListener('error', destroyOnError);
    try {
      await target.forward(req, raw, carrier);
    } catch (err) {
      req.log.error({ err, method: req.method, url: req.url }, 'proxy target threw; answered 502');
      const started = carrier.res ? carrier.res.headersSent : (carrier.socket as Socket).bytesWritten > 0;
      if (started) (carrier.res ?? carrier.socket).destroy();
      else writeReply(carrier, textReply(502, 'Bad Gateway', 'Bad Gateway', true));
    }
  }
}

/** What a request comes to once the routes have run: a reply to write, a handshake to attempt, or a relay. */
export type Outcome =
  | { readonly kind: 'reply'; readonly reply: Reply }
  | { readonly kind: 'handshake'; readonly options: HandshakeOptions }
  | { readonly kind: 'proxy'; readonly target: ProxyTarget };

/**
 * Runs the routes and turns their action into an outcome, with no I/O (so `inject()` shares it): no action
 * is 404; an HttpError is its reply; any other exception is the script's bug, a 500 and a log line.
 */
export async function decide(req: RequestContext<any>, routes: readonly RequestRoute[], plainHttp: boolean): Promise<Outcome> {
  if (plainHttp && req.httpVersion === '1.1' && !req.host) {
    return { kind: 'reply', reply: textReply(400, 'Bad Request', 'HTTP/1.1 requests must carry a Host header', true) };
  }
  let action: Action | undefined;
  try {
    action = await runPipeline(req, routes);
  } catch (err) {
    const cause = err instanceof RouteFailure ? err.cause : err;
    if (cause instanceof HttpError) {
      const status = cause.status;
      return { kind: 'reply', reply: textReply(status, STATUS_CODES[status] ?? 'Error', cause.reason, req.replyClose, { ...cause.headers }) };
    }
    const route = err instanceof RouteFailure ? err.route : undefined;
    req.log.error({ route, err: cause, method: req.method, url: req.url }, 'route threw; answered 500');
    return { kind: 'reply', reply: textReply(500, 'Internal Server Error', 'Internal Server Error', true) };
  }
  if (action === undefined) return { kind: 'reply', reply: textReply(404, 'Not found', 'Not found', req.replyClose) };
  if (action.kind === 'handshake') return { kind: 'handshake', options: action.options };
  if (action.kind === 'proxy') return { kind: 'proxy', target: action.target };
  if (action.kind === 'reply') {
    const headers = action.contentType ? { 'Content-Type': action.contentType, ...action.headers } : action.headers;
    if (action.refusal) req.log.info({ status: action.status, by: action.refusal.by, reason: action.refusal.reason }, 'request refused');
    return { kind: 'reply', reply: { status: action.status, reason: action.reason, headers, body: action.body, close: req.replyClose } };
  }
  throw new Error(`unreachable: action ${action.kind}`);
}
