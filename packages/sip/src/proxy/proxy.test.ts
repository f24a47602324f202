import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defineRoutes, type Gateway } from '@wsgate/core';
import { digestAuthorization, digestChallenges, RedisServer, startTestGateway, until, sleep, type TestGateway } from '@wsgate/test-kit';
import { parseMessage, sipDigest, sipService, type SipMessage, type SipRequest, type SipResponse, type SipService, type SipServiceOptions } from '../index.js';

/**
 * The proxy between phones on real WebSockets. Each phone here is a `ws` client that writes SIP as JsSIP does
 * (RFC 7118: Via `SIP/2.0/WS <random>.invalid`, Contact `;transport=ws;ob` with +sip.instance and reg-id) and
 * records every message it receives; the tests answer for the callee by hand, so each step is visible.
 */

let gw: TestGateway | undefined;
let sip: SipService | undefined;
const phones: Phone[] = [];

afterEach(async () => {
  for (const p of phones.splice(0)) p.ws.terminate();
  await gw?.close();
  gw = sip = undefined;
});

async function start(options: Partial<SipServiceOptions> = {}, withGateway = false) {
  gw = await startTestGateway([]);
  sip = sipService({ domains: ['example.com'], ...(withGateway ? { gateway: gw.gateway } : {}), ...options });
  gw.gateway.use(
    defineRoutes({
      'http:request': (req) => req.handshake({ protocols: ['sip'], requireProtocol: true }),
      ...sip.routes,
    }),
  );
  return sip;
}

let seq = 0;
const rnd = () => `${Date.now().toString(36)}${(seq++).toString(36)}`;

class Phone {
  readonly host = `${rnd()}.invalid`;
  readonly contact: string;
  readonly inbox: SipMessage[] = [];
  private cseq = 1;

  constructor(
    readonly ws: WebSocket,
    readonly user: string,
    readonly instance: string,
    contactHost?: string,
  ) {
    this.contact = `sip:${user}@${contactHost ?? this.host};transport=ws`;
    ws.on('message', (data: Buffer) => this.inbox.push(parseMessage(data)));
  }

  get aor() {
    return `sip:${this.user}@example.com`;
  }

  /** The next message received that `match` accepts (removed from the inbox), within 2 s. */
  async next<T extends SipMessage = SipMessage>(match: (m: SipMessage) => boolean, what = 'a message'): Promise<T> {
    let found: SipMessage | undefined;
    await until(() => {
      const i = this.inbox.findIndex(match);
      if (i >= 0) found = this.inbox.splice(i, 1)[0];
      return found !== undefined;
    }, 2000, `${this.user} to receive ${what}`);
    return found as T;
  }

  request(method: string, ruri: string, o: { to?: string; callId?: string; headers?: string[]; body?: string; cseq?: number; branch?: string } = {}) {
    const body = o.body ?? '';
    const branch = o.branch ?? `z9hG4bK${rnd()}`;
    const text = [
      `${method} ${ruri} SIP/2.0`,
      `Via: SIP/2.0/WS ${this.host};branch=${branch};rport`,
      'Max-Forwards: 70',
      `To: ${o.to ?? `<${ruri}>`}`,
      `From: <${this.aor}>;tag=${this.user}tag`,
      `Call-ID: ${o.callId ?? rnd()}`,
      `CSeq: ${o.cseq ?? this.cseq++} ${method === 'ACK' || method === 'CANCEL' ? method : method}`,
      `Contact: <${this.contact};ob>`,
      ...(o.headers ?? []),
      ...(body ? ['Content-Type: text/plain'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
    this.ws.send(text);
    return { branch, text };
  }

  /** Answers a received request as a UAS would: its Vias, From, To (with a tag), Call-ID, CSeq; more headers given. */
  reply(req: SipRequest, status: number, reason: string, headers: string[] = []) {
    const to = req.headers.get('to')!;
    const lines = [
      `SIP/2.0 ${status} ${reason}`,
      ...req.headers.getAll('via').map((v) => `Via: ${v}`),
      `From: ${req.headers.get('from')}`,
      `To: ${/;tag=/.test(to) || status === 100 ? to : `${to};tag=${this.user}totag`}`,
      `Call-ID: ${req.callId}`,
      `CSeq: ${req.headers.get('cseq')}`,
      ...headers,
      'Content-Length: 0',
      '',
      '',
    ];
    this.ws.send(lines.join('\r\n'));
  }
}

async function phone(user: string, register = true, contactHost?: string, url = gw!.url): Promise<Phone> {
  const ws = new WebSocket(url, 'sip');
  await once(ws, 'open');
  const p = new Phone(ws, user, `<urn:uuid:00000000-0000-4000-8000-${String(phones.length + 1).padStart(12, '0')}>`, contactHost);
  phones.push(p);
  if (register) {
    const text = [
      'REGISTER sip:example.com SIP/2.0',
      `Via: SIP/2.0/WS ${p.host};branch=z9hG4bK${rnd()}`,
      'Max-Forwards: 70',
      `To: <${p.aor}>`,
      `From: <${p.aor}>;tag=reg${rnd()}`,
      `Call-ID: reg-${rnd()}`,
      'CSeq: 1 REGISTER',
      `Contact: <${p.contact};ob>;+sip.instance="${p.instance}";reg-id=1;expires=600`,
      'Supported: path, outbound, gruu',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    ws.send(text);
    const ok = await p.next<SipResponse>((m) => m.kind === 'response', 'the REGISTER answer');
    expect(ok.status).toBe(200);
  }
  return p;
}

const isRequest = (method: string) => (m: SipMessage) => m.kind === 'request' && m.method === method;
const isStatus = (status: number, method?: string) => (m: SipMessage) =>
  m.kind === 'response' && m.status === status && (method === undefined || m.cseq.method === method);

describe('SIP proxy (RFC 3261 §16) between phones on WebSockets', () => {
  it('relays a MESSAGE to the callee\'s contact over its own WebSocket, with Via received/rport, and its 200 back', async () => {
    await start();
    const alice = await phone('alice');
    const bob = await phone('bob');
    const sent = alice.request('MESSAGE', 'sip:bob@example.com', { body: 'hello bob' });

    const got = await bob.next<SipRequest>(isRequest('MESSAGE'), 'the MESSAGE');
    expect(got.requestUri).toBe(`${bob.contact};ob`); // retargeted to the contact as registered
    expect(got.bodyText()).toBe('hello bob');
    expect(got.maxForwards).toBe(69);
    expect(got.via).toHaveLength(2);
    expect(got.via[0]!.host).toBe('example.com');
    expect(got.via[0]!.transport).toBe('WS');
    expect(got.via[1]!.branch).toBe(sent.branch);
    expect(got.via[1]!.received).toBe('127.0.0.1');
    expect(got.via[1]!.rport).toBe(Number((alice.ws as unknown as { _socket: { localPort: number } })._socket.localPort));
    expect(got.headers.has('record-route')).toBe(false); // MESSAGE makes no dialog

    bob.reply(got, 200, 'OK');
    const ok = await alice.next<SipResponse>(isStatus(200, 'MESSAGE'), 'the 200');
    expect(ok.via).toHaveLength(1);
    expect(ok.topVia.branch).toBe(sent.branch);
    await until(() => sip!.proxy.transactions === 0, 1000, 'the transaction to end');
  });

  it('makes a call: 100, 180, 200 with a double Record-Route, the ACK and the BYE follow the flow tokens both ways', async () => {
    await start();
    const alice = await phone('alice');
    const bob = await phone('bob');
    const callId = `call-${rnd()}`;
    alice.request('INVITE', 'sip:bob@example.com', { callId, body: 'v=0' });
    await alice.next(isStatus(100), 'a 100 Trying');
    const invite = await bob.next<SipRequest>(isRequest('INVITE'), 'the INVITE');
    const rr = invite.headers.values('record-route');
    expect(rr).toHaveLength(2);
    expect(rr.every((r) => /^<sip:[0-9a-f]+\.[0-9a-f]{16}@example\.com;transport=ws;lr>$/.test(r))).toBe(true);
    expect(rr[0]).not.toBe(rr[1]);

    bob.reply(invite, 180, 'Ringing', [...rr.map((r) => `Record-Route: ${r}`), `Contact: <${bob.contact}>`]);
    const ringing = await alice.next<SipResponse>(isStatus(180), 'the 180');
    expect(ringing.via).toHaveLength(1);
    bob.reply(invite, 200, 'OK', [...rr.map((r) => `Record-Route: ${r}`), `Contact: <${bob.contact}>`]);
    const ok = await alice.next<SipResponse>(isStatus(200, 'INVITE'), 'the 200');
    const aliceRoute = ok.headers.values('record-route').reverse(); // a UAC's route set is the Record-Route reversed
    const toWithTag = ok.headers.get('to')!;

    // ACK (end to end) to bob's Contact, along alice's route set
    alice.request('ACK', bob.contact, { callId, to: toWithTag, cseq: 1, headers: aliceRoute.map((r) => `Route: ${r}`) });
    const ack = await bob.next<SipRequest>(isRequest('ACK'), 'the ACK');
    expect(ack.headers.has('route')).toBe(false); // both of the proxy's own entries removed
    expect(ack.requestUri).toBe(bob.contact); // the remote target, untouched

    // bob hangs up: his route set is the Record-Route in order, his request goes to alice's flow
    const byeTo = `<${alice.aor}>;tag=alicetag`;
    const bye = [
      `BYE ${alice.contact} SIP/2.0`,
      `Via: SIP/2.0/WS ${bob.host};branch=z9hG4bK${rnd()}`,
      'Max-Forwards: 70',
      ...rr.map((r) => `Route: ${r}`),
      `From: ${invite.headers.get('to')};tag=bobtotag`,
      `To: ${byeTo}`,
      `Call-ID: ${callId}`,
      'CSeq: 1 BYE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    bob.ws.send(bye);
    const gotBye = await alice.next<SipRequest>(isRequest('BYE'), 'the BYE');
    alice.reply(gotBye, 200, 'OK');
    const byeOk = await bob.next<SipResponse>(isStatus(200, 'BYE'), 'the 200 to BYE');
    expect(byeOk.via).toHaveLength(1);
  });

  it('forks to every contact of the AOR in parallel; the first 200 wins and the other branch is cancelled', async () => {
    await start();
    const alice = await phone('alice');
    const bob1 = await phone('bob');
    const bob2 = await phone('bob');
    alice.request('INVITE', 'sip:bob@example.com', { body: 'v=0' });
    const inv1 = await bob1.next<SipRequest>(isRequest('INVITE'), 'the INVITE on the first phone');
    const inv2 = await bob2.next<SipRequest>(isRequest('INVITE'), 'the INVITE on the second phone');
    expect(inv1.topVia.branch).not.toBe(inv2.topVia.branch);
    bob2.reply(inv2, 180, 'Ringing');
    bob1.reply(inv1, 200, 'OK', [`Contact: <${bob1.contact}>`]);
    await alice.next(isStatus(200, 'INVITE'), 'the 200');
    const cancel = await bob2.next<SipRequest>(isRequest('CANCEL'), 'the CANCEL of the other branch');
    expect(cancel.topVia.branch).toBe(inv2.topVia.branch);
    expect(cancel.headers.get('reason')).toContain('cause=200');
    bob2.reply(cancel, 200, 'OK');
    bob2.reply(inv2, 487, 'Request Terminated');
    const ack = await bob2.next<SipRequest>(isRequest('ACK'), 'the proxy\'s ACK of the 487');
    expect(ack.topVia.branch).toBe(inv2.topVia.branch);
    await sleep(100);
    expect(alice.inbox.filter((m) => m.kind === 'response' && m.status >= 300)).toEqual([]); // the 487 stays here
  });

  it('CANCEL before answer: 200 to the CANCEL, CANCEL on the branch, the callee\'s 487 relayed and ACKed hop by hop', async () => {
    await start();
    const alice = await phone('alice');
    const bob = await phone('bob');
    const callId = `call-${rnd()}`;
    const { branch } = alice.request('INVITE', 'sip:bob@example.com', { callId, cseq: 7 });
    const invite = await bob.next<SipRequest>(isRequest('INVITE'), 'the INVITE');
    bob.reply(invite, 180, 'Ringing');
    await alice.next(isStatus(180), 'the 180');
    alice.request('CANCEL', 'sip:bob@example.com', { callId, cseq: 7, branch });
    await alice.next(isStatus(200, 'CANCEL'), 'the 200 to CANCEL');
    const cancel = await bob.next<SipRequest>(isRequest('CANCEL'), 'the CANCEL');
    bob.reply(cancel, 200, 'OK');
    bob.reply(invite, 487, 'Request Terminated');
    const terminated = await alice.next<SipResponse>(isStatus(487, 'INVITE'), 'the 487');
    expect(terminated.via).toHaveLength(1);
    await bob.next(isRequest('ACK'), 'the ACK of the 487');
  });

  it('a CANCEL that matches nothing gets 481', async () => {
    await start();
    const alice = await phone('alice');
    alice.request('CANCEL', 'sip:bob@example.com');
    const r = await alice.next<SipResponse>((m) => m.kind === 'response', 'an answer');
    expect(r.status).toBe(481);
  });

  it('480 for a user with no binding, 404 for an unknown user, 403 for another domain, 483 with Max-Forwards 0', async () => {
    await start({ users: (u) => ['alice', 'bob', 'carol'].includes(u) });
    const alice = await phone('alice');
    alice.request('MESSAGE', 'sip:carol@example.com', { body: 'x' });
    expect((await alice.next<SipResponse>((m) => m.kind === 'response')).status).toBe(480);
    alice.request('MESSAGE', 'sip:mallory@example.com', { body: 'x' });
    expect((await alice.next<SipResponse>((m) => m.kind === 'response')).status).toBe(404);
    alice.request('MESSAGE', 'sip:bob@elsewhere.net', { body: 'x' });
    const foreign = await alice.next<SipResponse>((m) => m.kind === 'response');
    expect(foreign.status).toBe(403);
    expect(foreign.reason).toContain('elsewhere.net');
    alice.ws.send(
      ['OPTIONS sip:bob@example.com SIP/2.0', `Via: SIP/2.0/WS ${alice.host};branch=z9hG4bKmf0`, 'Max-Forwards: 0', `To: <sip:bob@example.com>`,
        `From: <${alice.aor}>;tag=x`, 'Call-ID: mf0', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'),
    );
    expect((await alice.next<SipResponse>((m) => m.kind === 'response')).status).toBe(483);
  });

  it('answers OPTIONS for the domain itself, and refuses a malformed Route with 400 naming it', async () => {
    await start();
    const alice = await phone('alice');
    alice.request('OPTIONS', 'sip:example.com');
    const ok = await alice.next<SipResponse>((m) => m.kind === 'response');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('allow')).toContain('INVITE');
    alice.request('MESSAGE', 'sip:bob@example.com', { headers: ['Route: <sip:broken'], body: 'x' });
    const bad = await alice.next<SipResponse>((m) => m.kind === 'response');
    expect(bad.status).toBe(400);
    expect(bad.reason).toMatch(/Route/);
  });

  it('a forged or foreign Route is not followed (404), and a dialog whose other end reconnected gets 430', async () => {
    await start();
    const alice = await phone('alice');
    const bob = await phone('bob');
    alice.request('MESSAGE', bob.contact, { headers: ['Route: <sip:6c6f63616c2f31.0123456789abcdef@example.com;lr>'], body: 'x' });
    expect((await alice.next<SipResponse>((m) => m.kind === 'response')).status).toBe(404);

    alice.request('INVITE', 'sip:bob@example.com');
    const invite = await bob.next<SipRequest>(isRequest('INVITE'));
    const rr = invite.headers.values('record-route');
    bob.reply(invite, 200, 'OK', [...rr.map((r) => `Record-Route: ${r}`), `Contact: <${bob.contact}>`]);
    await alice.next(isStatus(200, 'INVITE'));
    bob.ws.close();
    await until(() => sip!.registrar.lookup(bob.aor).then((b) => b.length === 0), 2000, 'bob unregistered');
    alice.request('BYE', bob.contact, { headers: [...rr].reverse().map((r) => `Route: ${r}`) });
    const gone = await alice.next<SipResponse>((m) => m.kind === 'response' && m.cseq.method === 'BYE');
    expect(gone.status).toBe(430);
  });

  it('408 when the callee never answers (Timer F), and Timer C cancels a ringing INVITE and answers 408', async () => {
    await start({ requestTimeout: 0.3, inviteTimeout: 0.4 });
    const alice = await phone('alice');
    const bob = await phone('bob');
    alice.request('MESSAGE', 'sip:bob@example.com', { body: 'x' });
    await bob.next(isRequest('MESSAGE'));
    expect((await alice.next<SipResponse>((m) => m.kind === 'response')).status).toBe(408);

    alice.request('INVITE', 'sip:bob@example.com');
    const invite = await bob.next<SipRequest>(isRequest('INVITE'));
    bob.reply(invite, 180, 'Ringing');
    await alice.next(isStatus(180));
    await bob.next(isRequest('CANCEL'), 'the CANCEL Timer C sends');
    expect((await alice.next<SipResponse>(isStatus(408, 'INVITE'), 'the 408')).reason).toBe('Request Timeout');
  });

  it('a callee whose WebSocket closes while ringing: the caller gets 480 at once', async () => {
    await start();
    const alice = await phone('alice');
    const bob = await phone('bob');
    alice.request('INVITE', 'sip:bob@example.com');
    const invite = await bob.next<SipRequest>(isRequest('INVITE'));
    bob.reply(invite, 180, 'Ringing');
    await alice.next(isStatus(180));
    bob.ws.close();
    expect((await alice.next<SipResponse>(isStatus(480, 'INVITE'), 'the 480')).status).toBe(480);
    await until(() => sip!.proxy.transactions <= 1, 1000, 'the transaction to settle');
  });

  it('caps transactions per connection with 503, and detects a request looping back through the proxy (482)', async () => {
    await start({ maxTransactions: 2 });
    const alice = await phone('alice');
    const bob = await phone('bob');
    alice.request('MESSAGE', 'sip:bob@example.com', { body: '1' });
    alice.request('MESSAGE', 'sip:bob@example.com', { body: '2' });
    alice.request('MESSAGE', 'sip:bob@example.com', { body: '3' });
    const busy = await alice.next<SipResponse>((m) => m.kind === 'response', 'the 503');
    expect(busy.status).toBe(503);
    expect(busy.reason).toContain('2 transactions');
    bob.reply(await bob.next<SipRequest>(isRequest('MESSAGE')), 200, 'OK');
    bob.reply(await bob.next<SipRequest>(isRequest('MESSAGE')), 200, 'OK');
    await alice.next(isStatus(200, 'MESSAGE'));
    await alice.next(isStatus(200, 'MESSAGE'));

    // carol's phone registered the AOR itself as its contact and sends what it gets straight back: a loop
    const carol = await phone('carol', true, 'example.com');
    alice.request('MESSAGE', 'sip:carol@example.com', { body: 'loop' });
    const m = await carol.next<SipRequest>(isRequest('MESSAGE'));
    expect(m.requestUri).toBe('sip:carol@example.com;transport=ws;ob');
    carol.ws.send(
      [`MESSAGE ${m.requestUri} SIP/2.0`, `Via: SIP/2.0/WS ${carol.host};branch=z9hG4bK${rnd()}`,
        ...m.headers.getAll('via').map((v) => `Via: ${v}`), 'Max-Forwards: 68', `To: ${m.headers.get('to')}`,
        `From: ${m.headers.get('from')}`, `Call-ID: ${m.callId}`, `CSeq: ${m.headers.get('cseq')}`, 'Content-Length: 0', '', ''].join('\r\n'),
    );
    const answer = await carol.next<SipResponse>((x) => x.kind === 'response', 'the answer to the looped request');
    expect(answer.status).toBe(482);
  });

  it('with sipDigest: 407 first, the answered challenge is forwarded, a user the credentials do not know is 404, a known one not registered 480', async () => {
    const passwords: Record<string, string> = { alice: 'alice-secret', bob: 'bob-secret', carol: 'carol-secret' };
    await start({ auth: sipDigest({ realm: 'example.com', credentials: (user) => (user in passwords ? { password: passwords[user]! } : undefined) }) });
    const alice = await phone('alice', false);
    const bob = await phone('bob', false);
    // REGISTER needs credentials too; trust nothing: register bob by answering his 401
    const answer = (challenge: string, user: string, method: string, uri: string) =>
      digestAuthorization(digestChallenges(challenge)[0]!, { user, password: passwords[user]!, method, uri });
    const contact = `Contact: <${bob.contact};ob>;+sip.instance="${bob.instance}";reg-id=1`;
    bob.request('REGISTER', 'sip:example.com', { to: `<${bob.aor}>`, callId: 'bobreg', cseq: 1, headers: [contact] });
    const challenge401 = await bob.next<SipResponse>(isStatus(401));
    const www = challenge401.headers.getAll('www-authenticate').find((h) => h.includes('SHA-256'))!;
    bob.request('REGISTER', 'sip:example.com', { to: `<${bob.aor}>`, callId: 'bobreg', cseq: 2, headers: [contact, `Authorization: ${answer(www, 'bob', 'REGISTER', 'sip:example.com')}`] });
    await bob.next(isStatus(200, 'REGISTER'));

    alice.request('MESSAGE', 'sip:bob@example.com', { body: 'hi', callId: 'm1', cseq: 1 });
    const challenge = await alice.next<SipResponse>(isStatus(407));
    const pa = challenge.headers.getAll('proxy-authenticate').find((h) => h.includes('SHA-256'))!;
    expect(pa).toContain('realm="example.com"');
    alice.request('MESSAGE', 'sip:bob@example.com', { body: 'hi', callId: 'm1', cseq: 2, headers: [`Proxy-Authorization: ${answer(pa, 'alice', 'MESSAGE', 'sip:bob@example.com')}`] });
    const got = await bob.next<SipRequest>(isRequest('MESSAGE'));
    expect(got.bodyText()).toBe('hi');

    const ask = async (to: string, cseq: number) => {
      alice.request('MESSAGE', `sip:${to}@example.com`, { body: 'x', callId: `m-${to}`, cseq });
      const c = (await alice.next<SipResponse>(isStatus(407))).headers.getAll('proxy-authenticate').find((h) => h.includes('SHA-256'))!;
      alice.request('MESSAGE', `sip:${to}@example.com`, { body: 'x', callId: `m-${to}`, cseq: cseq + 1, headers: [`Proxy-Authorization: ${answer(c, 'alice', 'MESSAGE', `sip:${to}@example.com`)}`] });
      return (await alice.next<SipResponse>((m) => m.kind === 'response' && m.cseq.seq === cseq + 1)).status;
    };
    expect(await ask('mallory', 10)).toBe(404);
    expect(await ask('carol', 20)).toBe(480);
  });

  it('given the gateway: counts requests by method and responses by class, and gauges transactions and registrations', async () => {
    await start({}, true);
    const scrape = () => gw!.gateway.metrics.registry.metrics();
    const alice = await phone('alice');
    const bob = await phone('bob');
    alice.request('MESSAGE', 'sip:bob@example.com', { body: 'x' });
    const m = await bob.next<SipRequest>(isRequest('MESSAGE'));
    await until(async () => /^wsgate_sip_transactions 1$/m.test(await scrape()), 1000, 'one transaction open');
    bob.reply(m, 200, 'OK');
    await alice.next(isStatus(200, 'MESSAGE'));
    alice.request('MESSAGE', 'sip:nobody@elsewhere.net', { body: 'x' });
    await alice.next(isStatus(403));
    const text = await scrape();
    expect(text).toMatch(/^wsgate_sip_requests_total\{method="REGISTER"\} 2$/m);
    expect(text).toMatch(/^wsgate_sip_requests_total\{method="MESSAGE"\} 2$/m);
    expect(text).toMatch(/^wsgate_sip_responses_total\{class="2xx"\} 3$/m); // two REGISTERs' 200s and the relayed 200
    expect(text).toMatch(/^wsgate_sip_responses_total\{class="4xx"\} 1$/m);
    expect(text).toMatch(/^wsgate_sip_transactions 0$/m);
    expect(text).toMatch(/^wsgate_sip_registrations 2$/m);
    expect(await gw!.gateway.views.get('registrations')!.list({ user: 'bob' })).toHaveLength(1);
  });
});

describe('SIP across gateways sharing a Redis (issue 15.3): the phones on two nodes reach each other', () => {
  let redis: RedisServer | undefined;
  let nodes: TestGateway[] = [];
  let services: SipService[] = [];
  afterEach(async () => {
    for (const p of phones.splice(0)) p.ws.terminate();
    for (const s of services) s.close();
    await Promise.all(nodes.map((n) => n.close()));
    await redis?.close();
    nodes = [];
    services = [];
    redis = undefined;
  });

  /** Two gateways (nodes a and b) on one redis-server: the store, the directory of connections and the flow key are shared. */
  async function twoNodes(): Promise<[TestGateway, TestGateway]> {
    redis = await RedisServer.start();
    for (const name of ['a', 'b']) {
      const node = await startTestGateway([], { store: { redis: { url: redis.url } }, node: { name, heartbeat: 1 } });
      const sip = sipService({ domains: ['example.com'], gateway: node.gateway as Gateway });
      node.gateway.use(defineRoutes({ 'http:request': (req) => req.handshake({ protocols: ['sip'], requireProtocol: true }), ...sip.routes }));
      nodes.push(node);
      services.push(sip);
    }
    return [nodes[0]!, nodes[1]!];
  }

  it('a MESSAGE from a phone on node a reaches a phone on node b, and its 200 comes back through a', async () => {
    const [a, b] = await twoNodes();
    const alice = await phone('alice', true, undefined, a.url);
    const bob = await phone('bob', true, undefined, b.url);
    const sent = alice.request('MESSAGE', 'sip:bob@example.com', { body: 'across' });
    const got = await bob.next<SipRequest>(isRequest('MESSAGE'), 'the MESSAGE on node b');
    expect(got.bodyText()).toBe('across');
    expect(got.topVia.params.get('tx')).toBe(String((await a.gateway.connections.list())[0]!.id)); // the transaction's connection, on a
    bob.reply(got, 200, 'OK');
    const ok = await alice.next<SipResponse>(isStatus(200, 'MESSAGE'), 'the 200 through node a');
    expect([ok.via.length, ok.topVia.branch]).toEqual([1, sent.branch]);
  });

  it('a call across the nodes: INVITE, 180, 200, the ACK from a, the BYE from b, each on the right WebSocket', async () => {
    const [a, b] = await twoNodes();
    const alice = await phone('alice', true, undefined, a.url);
    const bob = await phone('bob', true, undefined, b.url);
    const callId = `x-${rnd()}`;
    alice.request('INVITE', 'sip:bob@example.com', { callId, body: 'v=0' });
    const invite = await bob.next<SipRequest>(isRequest('INVITE'), 'the INVITE on node b');
    const rr = invite.headers.values('record-route');
    bob.reply(invite, 180, 'Ringing', [...rr.map((r) => `Record-Route: ${r}`), `Contact: <${bob.contact}>`]);
    await alice.next(isStatus(180), 'the 180 on node a');
    bob.reply(invite, 200, 'OK', [...rr.map((r) => `Record-Route: ${r}`), `Contact: <${bob.contact}>`]);
    const ok = await alice.next<SipResponse>(isStatus(200, 'INVITE'), 'the 200 on node a');
    alice.request('ACK', bob.contact, { callId, to: ok.headers.get('to')!, cseq: 1, headers: ok.headers.values('record-route').reverse().map((r) => `Route: ${r}`) });
    await bob.next(isRequest('ACK'), 'the ACK on node b');
    // bob hangs up on node b: node b verifies the Route's flow tokens with the key the nodes share, and sends to a
    bob.ws.send(
      [`BYE ${alice.contact} SIP/2.0`, `Via: SIP/2.0/WS ${bob.host};branch=z9hG4bK${rnd()}`, 'Max-Forwards: 70', ...rr.map((r) => `Route: ${r}`),
        `From: ${invite.headers.get('to')};tag=bobtotag`, `To: <${alice.aor}>;tag=alicetag`, `Call-ID: ${callId}`, 'CSeq: 1 BYE', 'Content-Length: 0', '', ''].join('\r\n'),
    );
    const bye = await alice.next<SipRequest>(isRequest('BYE'), 'the BYE on node a');
    alice.reply(bye, 200, 'OK');
    await bob.next(isStatus(200, 'BYE'), 'the 200 to BYE on node b');
  });

  it('one AOR with a phone on each node: a MESSAGE reaches both; each node lists and counts only the binding on its own WebSocket', async () => {
    const [a, b] = await twoNodes();
    const bobOnA = await phone('bob', true, undefined, a.url);
    const bobOnB = await phone('bob', true, undefined, b.url);
    const alice = await phone('alice', true, undefined, a.url);
    alice.request('MESSAGE', 'sip:bob@example.com', { body: 'both' });
    bobOnA.reply(await bobOnA.next<SipRequest>(isRequest('MESSAGE'), 'the MESSAGE on a'), 200, 'OK');
    bobOnB.reply(await bobOnB.next<SipRequest>(isRequest('MESSAGE'), 'the MESSAGE on b'), 200, 'OK');
    await alice.next(isStatus(200, 'MESSAGE'));
    const listed = async (node: TestGateway) => (await node.gateway.views.get('registrations')!.list({ user: 'bob' })).map((r) => String(r.contact));
    expect(await listed(a)).toEqual([`<${bobOnA.contact};ob>;+sip.instance="${bobOnA.instance}";reg-id=1`]);
    expect(await listed(b)).toEqual([`<${bobOnB.contact};ob>;+sip.instance="${bobOnB.instance}";reg-id=1`]);
    // the registrations gauge: each node its own phones (bob and alice on a, bob on b), named after `node.name`
    expect(services.map((sip) => sip.registrar.stats.bindings)).toEqual([2, 1]);
  });

  it('a phone that closes on node b leaves the shared location at once: a call from node a gets 480', async () => {
    const [a, b] = await twoNodes();
    const alice = await phone('alice', true, undefined, a.url);
    const bob = await phone('bob', true, undefined, b.url);
    bob.ws.close();
    await until(async () => (await services[0]!.registrar.lookup(bob.aor)).length === 0, 2000, "bob's binding gone from the shared store");
    alice.request('INVITE', 'sip:bob@example.com');
    expect((await alice.next<SipResponse>((m) => m.kind === 'response' && m.status >= 400)).status).toBe(480);
  });

  it('Redis out of reach: REGISTER and a call get 503 with Retry-After, and both work again once it is back', async () => {
    redis = await RedisServer.start();
    const node = await startTestGateway([], { store: { redis: { url: redis.url, commandTimeout: 0.5 } }, node: { name: 'solo' } });
    const sip = sipService({ domains: ['example.com'], gateway: node.gateway as Gateway });
    node.gateway.use(defineRoutes({ 'http:request': (req) => req.handshake({ protocols: ['sip'], requireProtocol: true }), ...sip.routes }));
    nodes.push(node);
    services.push(sip);
    const alice = await phone('alice', true, undefined, node.url);
    await redis.stop();
    const contact = `Contact: <${alice.contact};ob>;+sip.instance="${alice.instance}";reg-id=1`;
    alice.request('REGISTER', 'sip:example.com', { to: `<${alice.aor}>`, callId: 'again', cseq: 5, headers: [contact] });
    const refused = await alice.next<SipResponse>(isStatus(503, 'REGISTER'), 'a 503 to REGISTER');
    expect(refused.headers.get('retry-after')).toBe('5');
    alice.request('MESSAGE', 'sip:bob@example.com', { body: 'x' });
    const unavailable = await alice.next<SipResponse>(isStatus(503, 'MESSAGE'), 'a 503 to MESSAGE');
    expect(unavailable.reason).toContain('location store unavailable');
    await redis.resume();
    await until(async () => {
      alice.request('REGISTER', 'sip:example.com', { to: `<${alice.aor}>`, callId: 'again', headers: [contact] });
      return (await alice.next<SipResponse>((m) => m.kind === 'response' && m.cseq.method === 'REGISTER')).status === 200;
    }, 5000, 'a REGISTER to succeed after Redis is back');
  });
});
