import http, { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { writeRawResponse } from '@wsgate/handshake';
import type { LimitsConfig, ListenerConfig } from '../config/types.js';
import { WsgateError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { readProxyPreface } from './proxy-protocol.js';
import type { ListenerCredentials } from './tls/credentials.js';
import { dropFailedHandshakes, tlsHandshakeTimeoutMs } from './tls/handshake-limit.js';
import { createSniTable, SniSelector } from './tls/sni.js';
import { upgradeFront } from './upgrade-front.js';
import { type ListenerInfo } from '../vocabulary.js';

export interface ListenerHandlers {
  onRequest(listener: ListenerInfo, req: IncomingMessage, res: ServerResponse): void;
  onUpgrade(listener: ListenerInfo, req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** A bound HTTP or HTTPS listener. */
export interface RunningListener {
  readonly info: ListenerInfo;
  readonly host: string;
  readonly server: http.Server;
  /**
   * For a reload of a TLS listener: makes the secure contexts of `credentials` (this may throw; nothing has
   * changed then) and returns the commit, which cannot fail: the next TLS handshakes get the new default and
   * per-host certificates, connections already open keep theirs.
   */
  prepareCredentials(credentials: ListenerCredentials): () => void;
  /** Stop accepting; resolves when every connection it accepted is gone. */
  close(): Promise<void>;
}

/**
 * Binds one listener with the gateway's limits: request-head size (431) and time (408), keep-alive idle time,
 * connection count. Malformed requests get their precise status from `clientError` here, before any route.
 * With `credentials` it is HTTPS, its certificate chosen per handshake by SNI among `credentials.sni`, the
 * handshake bounded by `tlsHandshakeTimeout` and a failed one dropped without an answer (tls/handshake-limit.ts).
 */
export async function startListener(
  index: number,
  config: ListenerConfig,
  limits: LimitsConfig,
  credentials: ListenerCredentials | undefined,
  handlers: ListenerHandlers,
  logger: Logger,
): Promise<RunningListener> {
  const headerTimeoutMs = Math.round(limits.headerTimeout * 1000);
  const options: http.ServerOptions = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: headerTimeoutMs,
    // Bodies are bounded by routes (413), not by a clock: a long-poll may legitimately stream for minutes.
    requestTimeout: 0,
    keepAliveTimeout: Math.round(limits.keepAliveTimeout * 1000),
    // Node checks the head timeout on this period; a coarse one lets a slowloris client linger past it.
    connectionsCheckingInterval: headCheckMs(headerTimeoutMs),
    // The Host check is the route's (Kamailio answers a missing Host with 403 on upgrades); plain requests get 400 in the dispatcher.
    requireHostHeader: false,
    noDelay: true,
  };
  // Only with tls.sni: an SNICallback makes node pause every handshake for a trip through JavaScript (about
  // 15 % more CPU per TLS handshake, measured on the benchmark's node relay), and node cannot add one later.
  const sni = credentials && credentials.sni.size > 0 ? new SniSelector(createSniTable(credentials.sni)) : undefined;
  const server = credentials
    ? https.createServer({
        ...options,
        cert: credentials.cert,
        key: credentials.key,
        ...(sni ? { SNICallback: sni.callback } : {}),
        handshakeTimeout: tlsHandshakeTimeoutMs(limits),
        ...(credentials.ticketKeys !== undefined ? { ticketKeys: credentials.ticketKeys } : {}),
      })
    : http.createServer(options);
  limitConnections(server, config, limits, logger);

  const info: { name: string; port: number; tls: boolean } = { name: config.name, port: config.port, tls: !!credentials };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => handlers.onRequest(info, req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => handlers.onUpgrade(info, req, socket, head));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket, limits));
  if (credentials) dropFailedHandshakes(server as https.Server, (err) => logger.debug({ listener: config.name, err }, 'TLS handshake failed'));

  // A plain TCP server accepts in the HTTP server's place: with the PROXY protocol, to read the preface first;
  // on other plain listeners, to take upgrade requests that arrive whole past node's HTTP machinery.
  const proxied = config.proxyProtocol
    ? proxyProtocolFront(server, config, limits, !!credentials, logger)
    : credentials
      ? undefined
      : fastUpgradeFront(server, config, limits, logger, (req, socket, head) => handlers.onUpgrade(info, req, socket, head));
  const front = proxied?.server;
  const bound = front ?? server;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      bound.removeListener('listening', onListening);
      reject(new WsgateError('WSGATE_LISTEN', `listeners[${index}] (${config.host}:${config.port}): ${listenHint(err)}`, { cause: err }));
    };
    const onListening = () => {
      bound.removeListener('error', onError);
      resolve();
    };
    bound.once('error', onError);
    bound.once('listening', onListening);
    bound.listen({ host: config.host, port: config.port });
  });
  // Node starts the head-timeout checks (408) when an HTTP server emits 'listening'; one fed by a front must be told.
  if (front) server.emit('listening');
  info.port = (bound.address() as AddressInfo).port;
  bound.on('error', (err) => logger.error({ listener: config.name, err }, 'listener error'));

  return {
    info,
    host: config.host,
    server,
    prepareCredentials(next) {
      if (!credentials) throw new WsgateError('WSGATE_API_MISUSE', `listeners[${index}] (${config.name}) is not a TLS listener: it has no certificates to replace`);
      if (!sni && next.sni.size > 0) {
        throw new WsgateError(
          'WSGATE_CONFIG_INVALID',
          `listeners[${index}].tls.sni: the listener ${config.name} was started without per-host certificates, and node cannot add them to a running listener; restart the gateway to serve them (nothing was reloaded)`,
        );
      }
      const table = createSniTable(next.sni);
      return () => {
        // A new context has new ticket keys unless given: keep the ones the workers share (or this server had),
        // so the sessions of browsers connected before the reload still resume.
        const tlsServer = server as https.Server;
        tlsServer.setSecureContext({ cert: next.cert, key: next.key, ticketKeys: next.ticketKeys ?? tlsServer.getTicketKeys() });
        sni?.replace(table);
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        // The front counts the connections (the HTTP server only saw them handed over): wait on it.
        if (proxied) {
          proxied.server.close(() => resolve());
          proxied.dropPending();
          server.close();
        } else {
          server.close(() => resolve());
        }
        server.closeIdleConnections();
      }),
  };
}

/** How often head timeouts (408) are checked: a coarse period lets a slowloris client linger past its deadline. */
function headCheckMs(headerTimeoutMs: number): number {
  return Math.min(1000, Math.max(50, headerTimeoutMs / 4));
}

/** `maxConnections` on the server that accepts; a connection over it is dropped and logged. */
function limitConnections(accepting: net.Server, config: ListenerConfig, limits: LimitsConfig, logger: Logger): void {
  accepting.maxConnections = limits.maxConnections;
  accepting.on('drop', (data?: { remoteAddress?: string }) =>
    logger.warn({ listener: config.name, client: data?.remoteAddress, limit: limits.maxConnections }, 'connection refused: maxConnections reached'),
  );
}

/** The upgrade fast path (upgrade-front.ts) with the listener's connection limit. */
function fastUpgradeFront(
  server: http.Server,
  config: ListenerConfig,
  limits: LimitsConfig,
  logger: Logger,
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): { server: net.Server; dropPending(): void } {
  const headerTimeoutMs = Math.round(limits.headerTimeout * 1000);
  const front = upgradeFront({
    http: server,
    maxHeaderSize: limits.maxHeaderSize,
    headerTimeoutMs,
    checkEveryMs: headCheckMs(headerTimeoutMs),
    noDelay: true,
    onUpgrade,
  });
  limitConnections(front.server, config, limits, logger);
  return front;
}

/**
 * A TCP server in front of `server` for `proxyProtocol: true`: the connection limit applies here, each socket
 * must open with a PROXY preface within the head timeout, and what follows it goes to the HTTP (or TLS) server.
 */
function proxyProtocolFront(
  server: http.Server,
  config: ListenerConfig,
  limits: LimitsConfig,
  tls: boolean,
  logger: Logger,
): { server: net.Server; dropPending(): void } {
  // Half-open as node's HTTP server: a client's FIN must not end our side (a tunnel passes it on).
  const front = net.createServer({ noDelay: true, allowHalfOpen: true });
  // Sockets still sending their preface belong to no HTTP server yet: closing the listener drops them itself.
  const pending = new Set<Socket>();
  limitConnections(front, config, limits, logger);
  const timeoutMs = Math.round(limits.headerTimeout * 1000);
  front.on('connection', (socket: Socket) => {
    pending.add(socket);
    readProxyPreface(socket, {
      timeoutMs,
      onReady(ready) {
        pending.delete(ready);
        server.emit('connection', ready);
        // A plain HTTP server reads the socket's handle directly; resuming hands it the bytes put back first.
        // A TLS server reads them out of the socket itself, and must then own it alone.
        if (!tls) ready.resume();
      },
      onFailure(failed, reason) {
        pending.delete(failed);
        logger.info({ listener: config.name, client: failed.remoteAddress, reason }, 'PROXY protocol preface refused; connection closed');
      },
    });
  });
  return {
    server: front,
    dropPending() {
      for (const socket of pending) socket.destroy();
    },
  };
}

function listenHint(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'address already in use: choose another port, or stop the process that holds it';
    case 'EACCES':
      return 'permission denied: ports below 1024 need privileges; choose a port above 1023';
    case 'EADDRNOTAVAIL':
      return 'address not available on this machine: use an address of one of its interfaces, or 0.0.0.0';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name does not resolve: use an IP address';
    default:
      return `${err.code ?? 'error'}: ${err.message}`;
  }
}

/** Node's parser rejected the request (or its head took too long): answer with the precise status, then close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, limits: LimitsConfig): void {
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, why] = classify(err, limits);
  writeRawResponse(socket, status, STATUS_CODES[status] ?? 'Bad Request', { 'Content-Type': 'text/plain; charset=utf-8' }, `${why}\n`);
}

function classify(err: NodeJS.ErrnoException & { reason?: string }, limits: LimitsConfig): [number, string] {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, `Request head larger than ${limits.maxHeaderSize} bytes`];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADER_TIMEOUT':
      return [408, `Request head not received within ${limits.headerTimeout} s`];
    case 'HPE_INVALID_METHOD':
      return [400, 'Malformed request: invalid method'];
    case 'HPE_INVALID_VERSION':
      return [400, 'Malformed request: invalid HTTP version'];
    case 'HPE_INVALID_URL':
      return [400, 'Malformed request: invalid request target'];
    case 'HPE_INVALID_HEADER_TOKEN':
      return [400, 'Malformed request: invalid character in a header name'];
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
      return [400, 'Malformed request: invalid Content-Length'];
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return [400, 'Malformed request: invalid Transfer-Encoding'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'Chunk extensions too large'];
    default:
      return [400, `Malformed request${err.reason ? `: ${err.reason}` : ''}`];
  }
}
