import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import { compileFormat } from './access-log.js';
import { inject } from '../request/inject.js';
import { defineRoutes } from '../script/routes.js';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

describe('access log format', () => {
  it('fills nginx variables and escapes what a client could use to forge lines', async () => {
    const { req } = await inject(defineRoutes({ 'http:request': (r) => (r.set('user', 'alice'), r.reply(200, 'OK')) }), {
      url: '/x?y=1',
      headers: { Host: 'h', 'User-Agent': 'evil"\n127.0.0.1 - - fake', 'X-Trace': 'abc' },
      remoteAddress: '192.0.2.1',
    });
    const line = compileFormat('$remote_addr $remote_user "$request" $status $body_bytes_sent "$http_user_agent" $http_x_trace $http_referer')(
      { req, status: 200, bytes: 12, seconds: 0.0042, route: 'r' },
      new Date('2026-11-21T04:05:06Z'),
    );
    expect(line).toBe('192.0.2.1 alice "GET /x?y=1 HTTP/1.1" 200 12 "evil\\x22\\x0A127.0.0.1 - - fake" abc -');
    expect(compileFormat('[$time_local] $request_time')({ req, status: 1, bytes: 0, seconds: 0.0042, route: '-' }, new Date('2026-11-21T04:05:06Z'))).toBe(
      '[21/Nov/2026:04:05:06 +0000] 0.004',
    );
  });

  it('names an unknown variable and the known ones', () => {
    expect(() => compileFormat('$remote_adr')).toThrow(/accessLog\.format: unknown variable \$remote_adr \(known: \$remote_addr/);
  });
});

describe('access log file', () => {
  it('writes one combined line per request: replies, handshakes and refusals', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'wsgate-access-')), 'access.log');
    gw = await startTestGateway(
      defineRoutes({
        'http:request': (req) => (req.isWebSocketUpgrade ? req.handshake({ protocols: ['echo'] }) : req.reply(200, 'OK', 'text/plain', 'hello')),
      }),
      { accessLog: { path } },
    );
    await fetch(`http://127.0.0.1:${gw.port}/page`, { headers: { Referer: 'http://ref.example/', 'User-Agent': 'test-agent' } });
    const ws = new WebSocket(gw.url, 'echo');
    await new Promise((r) => ws.once('open', r));
    ws.close();
    await until(() => readFileSync(path, 'utf8').split('\n').length >= 3, 3000, 'two lines');
    const [first, second] = readFileSync(path, 'utf8').trim().split('\n');
    expect(first).toMatch(/^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/page HTTP\/1\.1" 200 5 "http:\/\/ref\.example\/" "test-agent"$/);
    expect(second).toMatch(/"GET \/ HTTP\/1\.1" 101 0 "-" "-"$/);
  });

  it("writes a WebSocket's line when it closes, with the payload bytes each way and its duration", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'wsgate-access-')), 'access.log');
    gw = await startTestGateway(
      defineRoutes({
        'http:request': (req) => req.handshake({ protocols: ['echo'] }),
        'websocket:message': (conn, data) => conn.send(Buffer.concat([data as Buffer, data as Buffer])),
      }),
      { accessLog: { path, format: '$request_uri $status $body_bytes_sent $bytes_received $request_time' } },
    );
    const ws = new WebSocket(`${gw.url}/chat`, 'echo');
    await once(ws, 'open');
    ws.send('12345');
    await once(ws, 'message');
    ws.send('abc');
    await once(ws, 'message');
    await new Promise((r) => setTimeout(r, 300));
    // Open for 300 ms: no line yet, as nginx writes none before the request ends.
    expect(readFileSync(path, 'utf8')).toBe('');
    ws.close();
    await until(() => readFileSync(path, 'utf8').includes('\n'), 3000, 'the line at close');
    const [uri, status, sent, received, seconds] = readFileSync(path, 'utf8').trim().split(' ');
    expect([uri, status, sent, received]).toEqual(['/chat', '101', '16', '8']);
    expect(Number(seconds)).toBeGreaterThanOrEqual(0.3);
    expect(Number(seconds)).toBeLessThan(3);
  });
});
