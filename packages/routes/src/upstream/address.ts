import { isIP } from 'node:net';
import { WsgateError } from '@wsgate/core';

/** Where one upstream server listens, parsed once from its URL. */
export interface UpstreamAddress {
  /** As given, for logs: `wss://10.0.0.1:8443`, `unix:/run/app.sock`. */
  readonly label: string;
  /** TLS to the upstream (`wss://`, `https://`). */
  readonly tls: boolean;
  /** Host name or IP address (IPv6 without brackets); `localhost` for unix sockets. */
  readonly host: string;
  readonly port: number;
  /** A unix socket path instead of host and port. */
  readonly socketPath?: string;
  /** The `Host` header value that names this upstream (nginx's `$proxy_host`). */
  readonly hostHeader: string;
}

const DEFAULT_PORTS: Record<string, number> = { 'ws:': 80, 'http:': 80, 'wss:': 443, 'https:': 443 };

/**
 * Parses an upstream URL: `ws://`, `wss://`, `http://`, `https://` with a host and optional port, or
 * `unix:/path/to.sock` (nginx's spelling; plain HTTP over the socket). WebSocket and HTTP schemes are the
 * same upstream: an upgrade request goes to it as an upgrade, a plain request as plain HTTP.
 *
 * Paths are refused: the request's own target is sent, rewritten by `locations()` when asked.
 * @param where the option's name for the error (`servers[2]`).
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` naming the option and the fix.
 */
export function parseUpstreamAddress(value: unknown, where: string): UpstreamAddress {
  if (typeof value !== 'string' || value === '') {
    throw invalid(where, `expected a URL string such as "ws://127.0.0.1:9000", got ${JSON.stringify(value)}`);
  }
  if (value.startsWith('unix:')) {
    const socketPath = value.slice('unix:'.length);
    if (!socketPath.startsWith('/')) throw invalid(where, `"${value}": give an absolute socket path, e.g. "unix:/run/app.sock"`);
    return { label: value, tls: false, host: 'localhost', port: 0, socketPath, hostHeader: 'localhost' };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(where, `"${value}" is not a URL: write it as "wss://host:port"`);
  }
  const defaultPort = DEFAULT_PORTS[url.protocol];
  if (defaultPort === undefined) {
    throw invalid(where, `"${value}": the scheme must be ws://, wss://, http://, https:// or unix:`);
  }
  if (url.username || url.password) throw invalid(where, `"${value}": credentials in the URL are not sent; set an Authorization header instead`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw invalid(where, `"${value}": an upstream URL has no path or query; rewrite paths with locations({ rewrite })`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? defaultPort : Number(url.port);
  const hostHeader = url.port === '' ? url.hostname : `${url.hostname}:${url.port}`;
  return { label: value, tls: url.protocol === 'wss:' || url.protocol === 'https:', host, port, hostHeader };
}

/** The SNI name for a TLS connection: never an IP address (RFC 6066 §3). */
export function sniName(address: UpstreamAddress, servername: string | undefined): string | undefined {
  const name = servername ?? address.host;
  return isIP(name) === 0 && !address.socketPath ? name : servername;
}

function invalid(where: string, why: string): WsgateError {
  return new WsgateError('WSGATE_CONFIG_INVALID', `${where}: ${why}`);
}
