/** Test support: a gateway guarded by one module, and a WebSocket client that reports refusals. */
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach } from 'vitest';
import WebSocket from 'ws';
import { defineRoutes, type Routes } from '@wsgate/core';
import type { Guard } from '@wsgate/routes';
import { startTestGateway, type TestGateway } from './gateway.js';

/**
 * Routes that run `guard` and then upgrade (or, for plain HTTP, answer 200 with the attributes as JSON);
 * `websocket:message` echoes the connection's attributes, so tests can see what the guard recorded.
 */
export function guardRoutes(guard: Guard): Routes {
  return defineRoutes({
    async 'http:request'(req) {
      if (!(await guard.check(req))) return;
      if (req.isWebSocketUpgrade) return req.handshake();
      return req.reply(200, 'OK', 'application/json', JSON.stringify(req.attributes));
    },
    'websocket:message'(conn) {
      conn.send(JSON.stringify(conn.attributes));
    },
  });
}

export interface Attempt {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The open WebSocket when the handshake succeeded (status 101). */
  readonly ws?: WebSocket;
}

/** Opens a WebSocket; resolves with the refusal (status, headers, body) or with the open socket. */
export function attempt(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}): Promise<Attempt> {
  const { protocols, ...rest } = options;
  const ws = new WebSocket(url, protocols, rest);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ status: 101, headers: {}, body: '', ws }));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    ws.once('error', reject);
  });
}

/** The attributes the connection holds, as `guardRoutes` echoes them. */
export async function attributesOf(ws: WebSocket): Promise<Record<string, unknown>> {
  const reply = new Promise<Record<string, unknown>>((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))));
  ws.send('?');
  return reply;
}

/** A `startTestGateway` whose gateways are all closed after each test of the calling file. */
export function testGateways(): (routes: Routes<any> | Routes<any>[], config?: Record<string, unknown>) => Promise<TestGateway> {
  const open: TestGateway[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((g) => g.close()));
  });
  return async (routes, config) => {
    const gw = await startTestGateway(routes, config);
    open.push(gw);
    return gw;
  };
}
