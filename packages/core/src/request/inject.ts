import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { validateHandshake, type HandshakeDecision, type HandshakeOptions } from '@wsgate/handshake';
import type { ProxyTarget } from './actions.js';
import { decide } from './dispatch.js';
import { HostMatcher } from './host-matcher.js';
import { ConnectionRegistry } from '../connections/registry.js';
import { silentLogger, type Logger } from '../observe/logger.js';
import { RealIpResolver } from '../ingress/real-ip.js';
import { RequestContext } from './request-context.js';
import type { Routes } from '../script/routes.js';
import { resolveEventRoutes } from '../script/event-routes.js';
import { type ReplyHeaders } from '../vocabulary.js';

/** A request to drive through route scripts with no socket. */
export interface InjectRequest {
  method?: string;
  url?: string;
  /** Default `1.1`. */
  httpVersion?: '1.0' | '1.1';
  /** Names in any case; an array repeats the header. */
  headers?: Record<string, string | readonly string[]>;
  /** The listener it "arrived" on. Default port 80, no TLS. */
  listener?: { name?: string; port?: number; tls?: boolean };
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  /** What `isMyself()` accepts: names (default `localhost`) and ports (default the listener's). */
  myself?: { names?: readonly string[]; ports?: readonly number[] };
  /**
   * The config's `realIp` section, so that `req.clientIp` is resolved from a trusted proxy's header as on a
   * live gateway (`remoteAddress` is then the proxy). `header` defaults to `X-Forwarded-For`. Absent: the
   * client is `remoteAddress`.
   * @example
   * await inject(routes, { remoteAddress: '10.0.0.2', realIp: { trustedProxies: ['10.0.0.0/8'] }, headers: { 'X-Forwarded-For': '203.0.113.7' } })
   */
  realIp?: { readonly trustedProxies: readonly string[]; readonly header?: string };
  logger?: Logger;
  /** What `req.body()` reads (a plain request's body); none when absent. */
  body?: string | Buffer;
}

export type InjectResult<A extends Record<string, unknown> = Record<string, unknown>> =
  | {
      readonly kind: 'reply';
      readonly status: number;
      readonly reason: string;
      /** As the route gave them: an array is a header sent once per value. */
      readonly headers: ReplyHeaders;
      readonly body: string;
      readonly close: boolean;
      readonly req: RequestContext<A>;
    }
  | { readonly kind: 'proxy'; readonly target: ProxyTarget; readonly req: RequestContext<A> }
  | {
      readonly kind: 'handshake';
      readonly options: HandshakeOptions;
      /** What the handshake would answer: accepted, or refused with its status. */
      readonly decision: HandshakeDecision;
      readonly req: RequestContext<A>;
    };

/**
 * Drives route scripts with a request and no socket (like Fastify's `inject()`): what would the gateway do?
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` for a `realIp.trustedProxies` entry that is not an address or CIDR.
 * @example
 * const result = await inject(routes, { url: '/ws', headers: { upgrade: 'websocket', connection: 'Upgrade' } });
 */
export async function inject<A extends Record<string, unknown> = Record<string, unknown>>(
  routes: Routes<any> | readonly Routes<any>[],
  request: InjectRequest = {},
): Promise<InjectResult<A>> {
  const list = Array.isArray(routes) ? routes : [routes as Routes<any>];
  const requestRoutes = resolveEventRoutes(list)['http:request'];
  const port = request.listener?.port ?? 80;
  const { headers, rawHeaders } = nodeHeaders(request.headers ?? {});
  const [major, minor] = (request.httpVersion ?? '1.1').split('.').map(Number) as [number, number];
  const head = {
    method: request.method ?? 'GET',
    url: request.url ?? '/',
    httpVersionMajor: major,
    httpVersionMinor: minor,
    headers,
    rawHeaders,
    socket: {
      localAddress: request.localAddress ?? '127.0.0.1',
      localPort: port,
      remoteAddress: request.remoteAddress ?? '127.0.0.1',
      remotePort: request.remotePort ?? 50000,
    },
  };
  const env = {
    myself: new HostMatcher(request.myself?.names ?? ['localhost'], request.myself?.ports ?? [port]),
    logger: request.logger ?? silentLogger,
    realIp: request.realIp ? new RealIpResolver({ trustedProxies: request.realIp.trustedProxies, header: request.realIp.header ?? 'X-Forwarded-For' }) : undefined,
    connections: new ConnectionRegistry(),
  };
  const listener = { name: request.listener?.name ?? `inject:${port}`, port, tls: request.listener?.tls ?? false };
  const req = new RequestContext<A>(head, listener, env);
  if (request.body !== undefined && !isUpgrade(headers)) req.bodySource = Readable.from([Buffer.from(request.body)]);
  const outcome = await decide(req, requestRoutes, !isUpgrade(headers));
  if (outcome.kind === 'handshake') {
    return { kind: 'handshake', options: outcome.options, decision: validateHandshake(head, outcome.options), req };
  }
  if (outcome.kind === 'proxy') return { kind: 'proxy', target: outcome.target, req };
  const { reply } = outcome;
  return {
    kind: 'reply',
    status: reply.status,
    reason: reply.reason,
    headers: reply.headers,
    body: typeof reply.body === 'string' ? reply.body : reply.body.toString(),
    close: reply.close,
    req,
  };
}

/** Node's view of headers: lower-case names, repeats joined (cookies with "; "), set-cookie kept as a list. */
function nodeHeaders(input: Record<string, string | readonly string[]>): { headers: IncomingHttpHeaders; rawHeaders: string[] } {
  const headers: Record<string, string | string[]> = {};
  const rawHeaders: string[] = [];
  for (const [name, value] of Object.entries(input)) {
    const key = name.toLowerCase();
    const values = typeof value === 'string' ? [value] : [...value];
    for (const v of values) rawHeaders.push(name, v);
    if (key === 'set-cookie') headers[key] = values;
    else headers[key] = values.join(key === 'cookie' ? '; ' : ', ');
  }
  return { headers: headers as IncomingHttpHeaders, rawHeaders };
}

/** As node's parser decides: an Upgrade header together with a Connection header naming upgrade. */
function isUpgrade(headers: IncomingHttpHeaders): boolean {
  return headers.upgrade !== undefined && /(^|,)\s*upgrade\s*(,|$)/i.test(String(headers.connection ?? ''));
}
