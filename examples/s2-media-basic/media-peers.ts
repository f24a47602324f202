/**
 * The real peers the gateway meets in story S2, shared by both variants' end-to-end tests and the guide's
 * stand-in command (./stand-in.ts). A stand-in for
 * the WebRTC media server (a `ws` server over HTTPS with a self-signed certificate, speaking
 * `janus-protocol` when offered, and a REST API), and the REST hook service that admits or refuses
 * connections. Both keep what they received, so the tests assert on what arrived, not on what was sent.
 */
import { once } from 'node:events';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { selfSigned } from '../stand-in.js';

export interface MediaServer {
  /** `wss://127.0.0.1:<port>`. */
  readonly url: string;
  /** The head of every request it received, upgrades and REST calls, in order. */
  readonly requests: { method: string; url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** Where a peer listens: a free port on 127.0.0.1 unless told (the stand-in command gives the config's). */
export interface Listen {
  readonly host?: string;
  readonly port?: number;
}

/**
 * The media server. Each WebSocket message is answered `<message> from the media server, client <X-Client-IP>`;
 * `POST /rest-api/*` answers `{"received": <body bytes>}`. Its certificate is self-signed, as a media server's default one.
 */
export async function startMediaServer(listen: Listen = {}): Promise<MediaServer> {
  const requests: MediaServer['requests'] = [];
  const server = https.createServer(selfSigned('media.internal'), (req, res) => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    let received = 0;
    req.on('data', (c: Buffer) => (received += c.length));
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ received })));
  });
  const wss = new WebSocketServer({ server, handleProtocols: (offered) => (offered.has('janus-protocol') ? 'janus-protocol' : false) });
  wss.on('connection', (ws, req) => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    const client = req.headers['x-client-ip'];
    ws.on('message', (data: Buffer) => ws.send(`${data.toString()} from the media server, client ${client}`));
  });
  server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `wss://${listen.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`,
    requests,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** What the gateway's auth hook sends (`SessionDescription` in @wsgate/routes), as the hook service parses it. */
export type Session = Record<string, any>;

export interface HookService {
  /** `http://127.0.0.1:<port>/connect`. */
  readonly url: string;
  /** Every session description received, in order. */
  readonly sessions: Session[];
  /** The service's decision for a session: its status code (2xx admits). Default: 200 for everyone. */
  decide: (session: Session) => number;
  close(): Promise<void>;
}

/** The REST hook service the media server's deployment runs (the source documents' `/connect`). */
export async function startHookService(listen: Listen = {}): Promise<HookService> {
  const hook: HookService = {
    url: '',
    sessions: [],
    decide: () => 200,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const session = JSON.parse(body) as Session;
      hook.sessions.push(session);
      res.writeHead(hook.decide(session), { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1');
  await once(server, 'listening');
  return Object.assign(hook, { url: `http://${listen.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}/connect` });
}
