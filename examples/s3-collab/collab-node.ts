/**
 * A stand-in for one node of the collaboration cluster, for the end-to-end test and the guide's stand-in
 * command (./stand-in.ts): Openfire's HTTPS port
 * (`/ofmeet/` pages, `/pade/`, BOSH long-polling on `/http-bind/`, WebSockets on `/colibri-ws/` and `/ws/`)
 * and its video bridge's UDP media port. Every answer names the node, and every request head is kept, so
 * the test can see where the gateway sent what, with which headers.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export interface CollabNodeServer {
  readonly name: string;
  readonly httpsUrl: string;
  readonly udpAddress: string;
  readonly requests: IncomingMessage[];
  close(): Promise<void>;
}

/** BOSH in miniature: `<poll sid=…/>` waits up to `wait` s for messages; `<send sid=…>text</send>` queues one. */
class Bosh {
  private readonly queues = new Map<string, string[]>();
  private readonly waiting = new Map<string, ServerResponse>();

  constructor(private readonly name: string) {}

  handle(body: string, res: ServerResponse): void {
    const sid = /sid='([^']*)'/.exec(body)?.[1] ?? '';
    const send = /<send sid='[^']*'>(.*)<\/send>/.exec(body);
    if (send) {
      (this.queues.get(sid) ?? this.queues.set(sid, []).get(sid)!).push(send[1]!);
      this.flush(sid);
      return this.answer(res, sid, []);
    }
    const wait = Number(/wait='(\d+)'/.exec(body)?.[1] ?? 60);
    this.waiting.set(sid, res);
    const timer = setTimeout(() => this.flush(sid, true), wait * 1000);
    res.once('close', () => clearTimeout(timer));
    this.flush(sid);
  }

  private flush(sid: string, timedOut = false): void {
    const res = this.waiting.get(sid);
    const queue = this.queues.get(sid) ?? [];
    if (!res || (queue.length === 0 && !timedOut)) return;
    this.waiting.delete(sid);
    this.queues.set(sid, []);
    this.answer(res, sid, queue);
  }

  private answer(res: ServerResponse, sid: string, messages: string[]): void {
    res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'X-Node': this.name });
    res.end(`<body sid='${sid}' node='${this.name}'>${messages.map((m) => `<message>${m}</message>`).join('')}</body>`);
  }
}

/** Where a node listens: free ports on 127.0.0.1 unless told (the stand-in command gives the config's). */
export interface CollabNodeAddresses {
  readonly host?: string;
  readonly https?: number;
  readonly udp?: number;
}

export async function startCollabNode(name: string, tls: { cert: string; key: string }, at: CollabNodeAddresses = {}): Promise<CollabNodeServer> {
  const host = at.host ?? '127.0.0.1';
  const requests: IncomingMessage[] = [];
  const bosh = new Bosh(name);
  const server = https.createServer(tls, (req, res) => {
    requests.push(req);
    if (req.url?.startsWith('/http-bind/') && req.method === 'POST') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => bosh.handle(body, res));
      return;
    }
    if (req.url?.startsWith('/ofmeet/') || req.url?.startsWith('/pade/')) {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Node': name });
      return res.end(`${name} ${req.url}`);
    }
    res.writeHead(404, { 'X-Node': name });
    res.end('not here');
  });
  const wss = new WebSocketServer({ server, handleProtocols: (offered) => (offered.has('xmpp') ? 'xmpp' : false) });
  server.on('upgrade', (req: IncomingMessage) => requests.push(req));
  wss.on('connection', (ws, req) => {
    ws.on('error', () => {});
    // Who answers, on which path, and then an echo.
    ws.send(JSON.stringify({ node: name, path: req.url }));
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  // Every connection, TLS handshakes and upgraded sockets included, so that close() can end them all.
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(at.https ?? 0, host);
  await once(server, 'listening');

  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(`${name}:${msg.toString()}`, rinfo.port, rinfo.address));
  udp.bind(at.udp ?? 0, host);
  await once(udp, 'listening');

  let closing: Promise<void> | undefined;
  return {
    name,
    httpsUrl: `https://${host}:${(server.address() as AddressInfo).port}`,
    udpAddress: `${host}:${udp.address().port}`,
    requests,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        wss.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await closed;
      })();
      return closing;
    },
  };
}
