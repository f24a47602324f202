/** The registrar observed: its counts and its bindings gauge in the gateway's metrics, its bindings listed, its log lines. */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defineRoutes } from '@wsgate/core';
import { startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import { parseMessage, registrar, registrationsView, sipDigest, sipMetrics, type Registrar, type SipResponse } from '../index.js';

/** A REGISTER as JsSIP writes one over WebSocket (RFC 7118 §5), one binding per phone (RFC 5626 instance + reg-id). */
function register(user: string, n: number, opts: { cseq?: number; expires?: number; domain?: string } = {}): string {
  const domain = opts.domain ?? 'example.com';
  return [
    `REGISTER sip:${domain} SIP/2.0`,
    `Via: SIP/2.0/WS ${user}.invalid;branch=z9hG4bK${user}${n}${opts.cseq ?? 1}`,
    'Max-Forwards: 70',
    `To: <sip:${user}@${domain}>`,
    `From: <sip:${user}@${domain}>;tag=t${n}`,
    `Call-ID: call-${user}-${n}`,
    `CSeq: ${opts.cseq ?? 1} REGISTER`,
    `Contact: <sip:${user}${n}@${user}.invalid;transport=ws;ob>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-00000000000${n}>";reg-id=1`,
    `Expires: ${opts.expires ?? 600}`,
    'Supported: path, outbound, gruu',
    '',
    '',
  ].join('\r\n');
}

const options = (n: number) =>
  ['OPTIONS sip:example.com SIP/2.0', `Via: SIP/2.0/WS o.invalid;branch=z9hG4bKo${n}`, 'Max-Forwards: 70', 'To: <sip:example.com>', 'From: <sip:x@example.com>;tag=o', `Call-ID: opt-${n}`, `CSeq: ${n} OPTIONS`, '', ''].join('\r\n');

let gw: TestGateway | undefined;
let reg: Registrar | undefined;
afterEach(async () => {
  reg?.close();
  await gw?.close();
  gw = reg = undefined;
});

async function start(auth?: Parameters<typeof registrar>[0]['auth']): Promise<TestGateway> {
  gw = await startTestGateway([]);
  const metrics = sipMetrics(gw.gateway);
  reg = registrar({ domains: ['example.com'], metrics, logger: gw.gateway.logger, ...(auth ? { auth } : {}) });
  const view = registrationsView(gw.gateway, reg);
  gw.gateway.use(
    defineRoutes({
      'http:request': (req) => req.handshake({ protocols: ['sip'], requireProtocol: true }),
      ...reg.routes,
      'routes:close': () => {
        reg!.routes['routes:close']();
        view.remove();
      },
    }),
  );
  return gw;
}

async function phone(t: TestGateway) {
  const ws = new WebSocket(t.url, 'sip');
  await once(ws, 'open');
  const send = async (text: string): Promise<SipResponse> => {
    const reply = once(ws, 'message');
    ws.send(text);
    const m = parseMessage((await reply)[0] as Buffer);
    if (m.kind !== 'response') throw new Error('expected a response');
    return m;
  };
  return { ws, send };
}

const scrape = (t: TestGateway) => t.gateway.metrics.registry.metrics();

describe('SIP metrics from the registrar', () => {
  it('counts requests by method, responses by class and drops by reason; the bindings gauge follows registrations and closes', async () => {
    const t = await start();
    const alice = await phone(t);
    const bob = await phone(t);
    expect((await alice.send(register('alice', 1))).status).toBe(200);
    expect((await bob.send(register('bob', 2))).status).toBe(200);
    expect((await bob.send(register('bob', 2, { cseq: 2 }))).status).toBe(200); // a refresh: still one binding
    expect((await alice.send(register('alice', 1, { cseq: 3, domain: 'elsewhere.org' }))).status).toBe(403);
    expect((await alice.send(options(1))).status).toBe(405);
    alice.ws.send('SIP/2.0 200 OK\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bKs\r\nCall-ID: s\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n\r\n');
    alice.ws.send('SIP/2.0 200 OK\r\nnot a header\r\n\r\n'); // a malformed response: nobody to answer
    // a request whose Content-Length is not its body's: 400 (a malformed message that can be answered)
    alice.ws.send('MESSAGE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/WS m.invalid;branch=z9hG4bKm\r\nTo: <sip:bob@example.com>\r\nFrom: <sip:alice@example.com>;tag=m\r\nCall-ID: m1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 9\r\n\r\nhi');
    await until(async () => /wsgate_sip_responses_total\{class="4xx"\} 3/.test(await scrape(t)), 2000, 'the 400');

    let text = await scrape(t);
    expect(text).toMatch(/^# TYPE wsgate_sip_requests_total counter$/m);
    expect(text).toMatch(/^wsgate_sip_requests_total\{method="REGISTER"\} 4$/m);
    expect(text).toMatch(/^wsgate_sip_requests_total\{method="OPTIONS"\} 1$/m);
    expect(text).toMatch(/^wsgate_sip_requests_total\{method="INVITE"\} 0$/m);
    expect(text).toMatch(/^wsgate_sip_responses_total\{class="2xx"\} 3$/m);
    expect(text).toMatch(/^wsgate_sip_responses_total\{class="4xx"\} 3$/m); // 403, 405, 400
    expect(text).toMatch(/^wsgate_sip_dropped_total\{reason="stray-response"\} 1$/m);
    expect(text).toMatch(/^wsgate_sip_dropped_total\{reason="malformed"\} 1$/m);
    expect(text).toMatch(/^# TYPE wsgate_sip_registrations gauge$/m);
    expect(text).toMatch(/^wsgate_sip_registrations 2$/m);

    // Alice's tab closes: her binding goes at once, and so does the gauge's count.
    alice.ws.close();
    await until(async () => /^wsgate_sip_registrations 1$/m.test(await scrape(t)), 2000, 'the gauge to drop on close');
    expect(await reg!.lookup('sip:alice@example.com')).toEqual([]);
    // An unregister (expires 0) takes bob's.
    expect((await bob.send(register('bob', 2, { cseq: 3, expires: 0 }))).status).toBe(200);
    text = await scrape(t);
    expect(text).toMatch(/^wsgate_sip_registrations 0$/m);
    expect(text).toMatch(/^wsgate_sip_requests_total\{method="REGISTER"\} 5$/m);
    bob.ws.close();
  });

  it('lists this node’s bindings with their connection, client and seconds left, filtered by AOR, user or connection', async () => {
    const t = await start();
    const alice = await phone(t);
    const bob = await phone(t);
    await alice.send(register('alice', 1, { expires: 300 }));
    await bob.send(register('bob', 2));
    await until(() => t.gateway.connections.size === 2);
    const [aliceConn, bobConn] = (await t.gateway.connections.list(() => true)).sort((a, b) => a.id - b.id);

    const all = await reg!.list();
    expect(all.map((r) => [r.aor, r.connectionId])).toEqual([
      ['sip:alice@example.com', aliceConn!.id],
      ['sip:bob@example.com', bobConn!.id],
    ]);
    expect((await reg!.list({ aor: '<sip:bob@EXAMPLE.com>' })).map((r) => r.aor)).toEqual(['sip:bob@example.com']);
    expect((await reg!.list({ user: 'alice' })).map((r) => r.aor)).toEqual(['sip:alice@example.com']);
    expect((await reg!.list({ connectionId: bobConn!.id })).map((r) => r.aor)).toEqual(['sip:bob@example.com']);
    expect(await reg!.list({ user: 'carol' })).toEqual([]);

    const rows = await t.gateway.views.get('registrations')!.list({ user: 'alice' });
    expect(rows).toEqual([
      {
        aor: 'sip:alice@example.com',
        contact: '<sip:alice1@alice.invalid;transport=ws;ob>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000000000001>";reg-id=1',
        connection: aliceConn!.id,
        client: `127.0.0.1:${aliceConn!.remotePort}`,
        expiresIn: expect.any(Number),
      },
    ]);
    expect(rows[0]!.expiresIn).toBeGreaterThan(295);
    expect(rows[0]!.expiresIn).toBeLessThanOrEqual(300);
    await expect(t.gateway.views.get('registrations')!.list({ connection: 'x1' })).rejects.toThrow('connection must be a connection id such as 42, got "x1"');
    alice.ws.close();
    bob.ws.close();
  });

  it('logs each REGISTER at debug and each refusal at info, with the Call-ID, the AOR and the connection', async () => {
    const t = await start();
    const alice = await phone(t);
    await alice.send(register('alice', 1));
    await alice.send(register('alice', 7, { domain: 'elsewhere.org' }));
    const [conn] = await t.gateway.connections.list(() => true);
    expect(t.logs).toContainEqual(
      expect.objectContaining({ level: 20, module: 'registrar', msg: 'REGISTER', callId: 'call-alice-1', aor: 'sip:alice@example.com', conn: conn!.id, status: 200, bindings: 1 }),
    );
    expect(t.logs).toContainEqual(
      expect.objectContaining({ level: 30, module: 'registrar', msg: 'REGISTER refused', callId: 'call-alice-7', to: '<sip:alice@elsewhere.org>', conn: conn!.id, status: 403 }),
    );
    alice.ws.close();
  });

  it('logs a digest challenge at debug, not as a refusal: it is the first step of every authenticated REGISTER', async () => {
    const auth = sipDigest({ realm: 'example.com', credentials: () => ({ password: 'alice-secret' }) });
    try {
      const t = await start(auth);
      const alice = await phone(t);
      expect((await alice.send(register('alice', 1))).status).toBe(401);
      expect(t.logs).toContainEqual(expect.objectContaining({ level: 20, module: 'registrar', msg: 'REGISTER challenged', callId: 'call-alice-1', status: 401 }));
      expect(t.logs.filter((l) => l.msg === 'REGISTER refused')).toEqual([]);
      expect(await scrape(t)).toMatch(/^wsgate_sip_responses_total\{class="4xx"\} 1$/m);
      alice.ws.close();
    } finally {
      auth.close();
    }
  });
});
