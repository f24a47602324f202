import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defineRoutes } from '@wsgate/core';
import { startTestGateway, type TestGateway } from '@wsgate/test-kit';
import { createResponse, frameStats, parseMessage, readFrame, serialize, tagOf } from './index.js';

/** A gateway whose `sip` WebSockets answer every request 200, refuse malformed ones, and pong CRLF pings. */
function sipRoutes(stats = frameStats()) {
  return defineRoutes({
    'http:request': (req) => req.handshake({ protocols: ['sip'], requireProtocol: true }),
    'websocket:message'(conn, data) {
      const r = readFrame(data, undefined, stats);
      if (r.kind === 'answer') conn.send(r.reply, { binary: false });
      else if (r.kind === 'keepalive' && r.reply) conn.send(r.reply, { binary: false });
      else if (r.kind === 'message' && r.message.kind === 'request') {
        conn.send(serialize(createResponse(r.message, 200, 'OK')), { binary: false });
      }
    },
  });
}

const request = (method: string, cseq: number, extra: string[] = []): string =>
  [
    `${method} sip:example.com SIP/2.0`,
    `Via: SIP/2.0/WS 9x8y7z.invalid;branch=z9hG4bK${method}${cseq}`,
    'Max-Forwards: 70',
    'To: <sip:alice@example.com>',
    'From: <sip:alice@example.com>;tag=ws1',
    'Call-ID: websocket-test-1',
    `CSeq: ${cseq} ${method}`,
    ...extra,
    '',
    '',
  ].join('\r\n');

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

describe('SIP over a real WebSocket (RFC 7118)', () => {
  it('answers requests in text frames, refuses a malformed one with 400 and a reason, drops what it cannot answer', async () => {
    const stats = frameStats();
    gw = await startTestGateway(sipRoutes(stats));
    const ws = new WebSocket(gw.url, 'sip');
    await once(ws, 'open');
    const next = async () => {
      const [data, isBinary] = (await once(ws, 'message')) as [Buffer, boolean];
      expect(isBinary).toBe(false);
      return data;
    };

    ws.send(request('REGISTER', 1, ['Contact: <sip:u@9x8y7z.invalid;transport=ws>', 'Expires: 600']));
    const ok = parseMessage(await next());
    expect(ok.kind === 'response' && [ok.status, ok.cseq.seq, tagOf(ok.to) !== undefined]).toEqual([200, 1, true]);

    ws.send(request('OPTIONS', 2, ['Content-Length: 12']));
    const bad = parseMessage(await next());
    expect(bad.kind === 'response' && [bad.status, bad.reason, bad.cseq.seq, bad.topVia.branch]).toEqual([
      400,
      "Content-Length 12 does not match the body's 0 bytes",
      2,
      'z9hG4bKOPTIONS2',
    ]);

    // no Call-ID: nothing can be answered, so nothing comes back; the next answer is the next request's
    ws.send(request('OPTIONS', 3).replace('Call-ID: websocket-test-1\r\n', ''));
    ws.send('\r\n\r\n');
    expect((await next()).toString()).toBe('\r\n');
    ws.send(request('OPTIONS', 4));
    const after = parseMessage(await next());
    expect(after.kind === 'response' && [after.status, after.cseq.seq]).toEqual([200, 4]);
    expect(stats).toEqual({ messages: 2, answered: 1, dropped: 1, keepalives: 1 });
    ws.close();
  });
});
