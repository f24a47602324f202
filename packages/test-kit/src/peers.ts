/**
 * Test support: real peers for the proxy's tests — `ws` and HTTP upstreams (plain, TLS, unix
 * socket), certificates made by openssl, and a gateway on an ephemeral port. No mocks: every test crosses
 * real sockets.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLogger, defineRoutes, Gateway, resolveConfig, type LogFields, type RequestContext, type RouteResult } from '@wsgate/core';

export interface Certificates {
  readonly dir: string;
  /** PEM of the CA, and its file. */
  readonly ca: string;
  readonly caFile: string;
  /** A leaf for `names` signed by the CA. */
  readonly cert: string;
  readonly key: string;
}

/** A CA and a leaf certificate for `names` (DNS names and IP addresses), made by openssl in a temp folder. */
export function makeCertificates(names: readonly string[] = ['localhost', '127.0.0.1']): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-proxy-tls-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=wsgate test CA');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${names[0]}`);
  const san = names.map((n) => (net.isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  execFileSync('sh', ['-c', `printf 'subjectAltName=${san}\\n' > ext.cnf`], { cwd: dir });
  run('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '2', '-extfile', 'ext.cnf');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { dir, ca: read('ca.pem'), caFile: join(dir, 'ca.pem'), cert: read('leaf.pem'), key: read('leaf.key') };
}

export interface Upstream {
  /** `ws://127.0.0.1:port` (or `wss://`, or `unix:/path`). */
  readonly url: string;
  readonly port: number;
  readonly server: http.Server;
  readonly wss: WebSocketServer;
  /** Heads of the requests it received, in order (upgrades and plain). */
  readonly requests: IncomingMessage[];
  /** Server-side sockets of open WebSockets. */
  readonly sockets: Set<WebSocket>;
  close(): Promise<void>;
}

export interface UpstreamOptions {
  /** Its name, sent back in `X-Node` headers and `whoami` messages. */
  name?: string;
  tls?: { cert: string; key: string };
  socketPath?: string;
  /** Subprotocols it chooses from, in its order of preference. */
  protocols?: string[];
  /** Plain requests; default answers 200 with `<name> <method> <url>`. */
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void;
  /** WebSocket behaviour; default echoes every message (`whoami` gets the name). */
  onConnection?: (ws: WebSocket, req: IncomingMessage) => void;
  perMessageDeflate?: boolean;
  host?: string;
  /** Refuses an upgrade with this raw HTTP answer when it returns one. */
  refuse?: (req: IncomingMessage) => string | undefined;
}

/** A real upstream: an HTTP(S) server with a `ws` server on it. */
export async function startUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
  const name = options.name ?? 'upstream';
  const requests: IncomingMessage[] = [];
  const sockets = new Set<WebSocket>();
  const onRequest =
    options.onRequest ??
    ((req: IncomingMessage, res: ServerResponse) => {
      res.setHeader('X-Node', name);
      res.end(`${name} ${req.method} ${req.url}`);
    });
  const server = options.tls ? https.createServer(options.tls) : http.createServer();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requests.push(req);
    onRequest(req, res);
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: options.perMessageDeflate ?? false,
    handleProtocols: options.protocols ? (offered) => options.protocols!.find((p) => offered.has(p)) ?? false : undefined,
  });
  wss.on('headers', (headers) => headers.push(`X-Node: ${name}`));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    requests.push(req);
    const refusal = options.refuse?.(req);
    if (refusal !== undefined) return void socket.end(refusal);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws, req) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => {});
    if (options.onConnection) return options.onConnection(ws, req);
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(!isBinary && data.toString() === 'whoami' ? name : data, { binary: isBinary }));
  });
  if (options.socketPath) server.listen(options.socketPath);
  else server.listen(0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const port = options.socketPath ? 0 : (server.address() as net.AddressInfo).port;
  const scheme = options.tls ? 'wss' : 'ws';
  const host = options.host ?? '127.0.0.1';
  return {
    url: options.socketPath ? `unix:${options.socketPath}` : `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    server,
    wss,
    requests,
    sockets,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ProxyGateway {
  readonly gateway: Gateway;
  readonly port: number;
  readonly logs: LogFields[];
  close(): Promise<void>;
}

/** A gateway on 127.0.0.1 (TLS with a self-signed certificate when `tls`) whose one route is `route`. */
export async function startProxyGateway(route: (req: RequestContext<any>) => RouteResult | Promise<RouteResult>, config: Record<string, unknown> = {}): Promise<ProxyGateway> {
  const logs: LogFields[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => void logs.push(JSON.parse(line)) });
  const dataDir = mkdtempSync(join(tmpdir(), 'wsgate-proxy-gw-'));
  const resolved = resolveConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], dataDir, keepalive: { mechanism: 'none' }, ...config }, process.cwd());
  const gateway = new Gateway(resolved, { logger });
  gateway.use(defineRoutes({ 'http:request': route }));
  await gateway.listen();
  return { gateway, port: gateway.addresses()[0]!.port, logs, close: () => gateway.close({ grace: 0.2 }) };
}
