/**
 * Opens the connection to one upstream node: TCP, TLS (verification on or off, SNI, session resumption) or a
 * unix socket, bounded by the connect timeout. Returned at once, still connecting, so that it fits
 * `createConnection` hooks (node's http client, `ws`, agents); failures arrive as its `error` event.
 */
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { isIP } from 'node:net';
import type { UpstreamNode } from './node.js';
import type { TlsSettings } from './settings.js';
import { ConnectTimeoutError } from './upstream-error.js';

export interface ConnectSettings {
  readonly tls: TlsSettings;
  readonly connectTimeoutMs: number;
}

/** The event that says a socket of this kind is ready for bytes. */
export function readyEvent(socket: Socket): 'secureConnect' | 'connect' {
  return socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect';
}

export interface OpenOptions {
  /**
   * Keep the socket writable after the upstream's FIN (default): tunnels pass half-closes on. Pooled HTTP
   * connections must not: a kept connection the upstream closed would look reusable and hang the next request.
   */
  readonly halfOpen?: boolean;
  /** Bound the connect by the connect timeout here (default); false when the caller watches it itself. */
  readonly timed?: boolean;
}

export function openUpstreamSocket(node: UpstreamNode, settings: ConnectSettings, options: OpenOptions = {}): Socket {
  const halfOpen = options.halfOpen ?? true;
  const a = node.address;
  let socket: Socket;
  if (a.tls) {
    const name = settings.tls.servername ?? a.host;
    const t = tls.connect({
      host: a.host,
      port: a.port,
      lookup: node.names?.lookup,
      // RFC 6066: SNI carries host names only.
      servername: settings.tls.sni && isIP(name) === 0 ? name : undefined,
      rejectUnauthorized: settings.tls.verify,
      ca: settings.tls.ca,
      // The certificate names the configured servername when one is given (nginx `proxy_ssl_name`).
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
      session: node.tlsSession,
      // Honoured by TLSSocket, missing from the typings: half-close must pass through TLS upstreams too.
      ...({ allowHalfOpen: halfOpen } as object),
    });
    t.setNoDelay(true);
    node.keepSession(t);
    socket = t;
  } else if (a.socketPath) {
    socket = net.connect({ path: a.socketPath, allowHalfOpen: halfOpen });
  } else {
    socket = net.connect({ host: a.host, port: a.port, lookup: node.names?.lookup, allowHalfOpen: halfOpen, noDelay: true });
  }
  if (options.timed === false) return socket;
  const ms = settings.connectTimeoutMs;
  const timer = setTimeout(() => socket.destroy(new ConnectTimeoutError(ms)), ms);
  const clear = () => clearTimeout(timer);
  socket.once(readyEvent(socket), clear);
  socket.once('close', clear);
  return socket;
}
