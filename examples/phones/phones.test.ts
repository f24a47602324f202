/**
 * The stories with real phones (issue 14.7): JsSIP and SIP.js in headless Chromium (Debian's `chromium`,
 * driven by playwright-core) register, message and call each other through the sample gateway's route
 * (examples/sample/routes.ts, what `npm start` serves: @wsgate/sip's registrar and proxy for example.com with
 * SIP digest against S1's htdigest, alice/alice-secret and bob/bob-secret). Media flows between the two pages
 * over loopback and is checked with getStats(); the registrar is read through the `registrations` view that
 * `wsgate ctl registrations` prints.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, resolveConfig, silentLogger, type ViewRow } from '@wsgate/core';
import { until } from '@wsgate/test-kit';
import sample from '../sample/routes.js';
import { loopbackChromium, type LoopbackChromium } from './loopback-chromium.js';
import { Phone, PHONE_CHROMIUM_ARGS } from './phone.js';
import { startPhoneSite, type PhoneLibrary, type PhoneSite } from './phone-site.js';

const CHROMIUM = '/usr/bin/chromium';
const PASSWORDS: Record<string, string> = { alice: 'alice-secret', bob: 'bob-secret' };
/** A call is set up (INVITE to 200/ACK) within this, and any single step of it too. */
const CALL_SETUP_MS = 10_000;
const STEP_MS = 5000;

let gateway: Gateway;
let url: string;
let site: PhoneSite;
let browser: Browser;
let isolated: LoopbackChromium;
const opened: Phone[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  gateway = new Gateway(resolveConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], keepalive: { mechanism: 'none' } }, process.cwd()), { logger: silentLogger });
  [, site] = await Promise.all([gateway.listen(), startPhoneSite()]);
  const port = gateway.addresses()[0]!.port;
  url = `ws://127.0.0.1:${port}`;
  // the sample's own script options: the SIP domain example.com, S1's htdigest
  gateway.use(await sample({ gateway, options: { ports: [port] } }));
  // Chromium sees only loopback: media can flow over 127.0.0.1 alone (loopback-chromium.ts says why).
  isolated = await loopbackChromium([gateway.addresses()[0]!.port, site.port], CHROMIUM);
  browser = await chromium.launch({ executablePath: isolated.executablePath, headless: true, args: PHONE_CHROMIUM_ARGS });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await isolated?.close();
  await site?.close();
  await gateway?.close({ grace: 0.2 });
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((p) => p.close().catch(() => undefined)));
});

/** Opens a phone page and registers `user` through it. */
async function phone(user: string, library: PhoneLibrary = 'jssip'): Promise<Phone> {
  const p = await Phone.open(browser, site, library, url, user);
  opened.push(p);
  await p.register(user, PASSWORDS[user]!);
  return p;
}

/** The registrar's bindings of a user, as `wsgate ctl registrations --user <user>` lists them. */
const bindingsOf = async (user: string): Promise<readonly ViewRow[]> => gateway.views.get('registrations')!.list({ user });

/**
 * `caller` calls `callee` and the callee answers: the INVITE reaches the callee, the caller sees 180 then 200
 * and sends the ACK, the callee sees the ACK; resolves with the set-up time in ms.
 */
async function establish(caller: Phone, callee: Phone, calleeUser: string): Promise<number> {
  const [c0, e0] = await Promise.all([caller.mark(), callee.mark()]);
  const start = Date.now();
  await caller.call(calleeUser);
  await callee.waitFor({ type: 'incoming' }, CALL_SETUP_MS, e0);
  await callee.waitFor({ type: 'wire', dir: 'in', startsWith: 'INVITE ' }, STEP_MS, e0);
  await caller.waitFor({ type: 'wire', dir: 'in', startsWith: 'SIP/2.0 180', method: 'INVITE' }, STEP_MS, c0);
  await caller.waitFor({ type: 'progress', status: 180 }, STEP_MS, c0);
  await callee.answer();
  await caller.waitFor({ type: 'accepted', status: 200 }, STEP_MS, c0);
  await caller.waitFor({ type: 'wire', dir: 'out', startsWith: 'ACK ' }, STEP_MS, c0);
  await callee.waitFor({ type: 'wire', dir: 'in', startsWith: 'ACK ' }, STEP_MS, e0);
  await callee.waitFor({ type: 'confirmed' }, STEP_MS, e0);
  return Date.now() - start;
}

/**
 * Audio RTP flowed both ways between the two pages, over 127.0.0.1: each side's selected candidate pair
 * starts at 127.0.0.1 (the remote end is the other side's, though Chromium may report it as `prflx` only).
 */
async function expectAudioBothWays(a: Phone, b: Phone): Promise<void> {
  const [sa, sb] = await Promise.all([a.waitForAudio(STEP_MS), b.waitForAudio(STEP_MS)]);
  for (const [p, s] of [[a, sa], [b, sb]] as const) {
    const seen = `${p.name}'s audio: ${JSON.stringify(s)}`;
    expect(s.packetsReceived, seen).toBeGreaterThan(0);
    expect(s.bytesReceived, seen).toBeGreaterThan(0);
    expect(s.packetsSent, seen).toBeGreaterThan(0);
    expect(s.local, seen).toBe('127.0.0.1');
  }
}

/** `from` hangs up: its BYE crosses the gateway, both sides end, `from` gets the BYE's 200. */
async function hangUp(from: Phone, other: Phone): Promise<void> {
  const [f0, o0] = await Promise.all([from.mark(), other.mark()]);
  await from.hangup();
  await from.waitFor({ type: 'wire', dir: 'out', startsWith: 'BYE ' }, STEP_MS, f0);
  await other.waitFor({ type: 'wire', dir: 'in', startsWith: 'BYE ' }, STEP_MS, o0);
  await other.waitFor({ type: 'ended', originator: 'remote' }, STEP_MS, o0);
  await from.waitFor({ type: 'wire', dir: 'in', startsWith: 'SIP/2.0 200', method: 'BYE' }, STEP_MS, f0);
  await from.waitFor({ type: 'ended', originator: 'local' }, STEP_MS, f0);
}

describe('JsSIP and SIP.js phones in Chromium, through wsgate', () => {
  it('(a) two JsSIP phones register through digest, and the registrar finds them on their flows', async () => {
    const [alice, bob] = await Promise.all([phone('alice'), phone('bob')]);
    for (const p of [alice, bob]) {
      // challenged first (401 with WWW-Authenticate), then registered with credentials
      await p.waitFor({ type: 'wire', dir: 'in', startsWith: 'SIP/2.0 401', method: 'REGISTER' }, STEP_MS);
      expect(await p.waitFor({ type: 'registered' }, STEP_MS)).toMatchObject({ status: 200 });
    }
    for (const user of ['alice', 'bob']) {
      const bindings = await bindingsOf(user);
      expect(bindings).toHaveLength(1);
      expect(bindings[0]!.connection).toEqual(expect.any(Number));
      expect(bindings[0]!.client).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(bindings[0]!.contact).toMatch(/^<?sip:[^@]+@[^;>]+\.invalid;transport=ws/i);
    }
  });

  it('(b) alice sends bob a MESSAGE and his page receives it', async () => {
    const [alice, bob] = await Promise.all([phone('alice'), phone('bob')]);
    const b0 = await bob.mark();
    expect(await alice.sendMessage('bob', 'hello bob, from a browser')).toMatchObject({ status: 200 });
    expect(await bob.waitFor({ type: 'message' }, STEP_MS, b0)).toMatchObject({ from: 'sip:alice@example.com', body: 'hello bob, from a browser' });
  });

  it('(c) alice calls bob: 180, answer, 200/ACK, audio both ways, BYE ends both sides', async () => {
    const [alice, bob] = await Promise.all([phone('alice'), phone('bob')]);
    expect(await establish(alice, bob, 'bob')).toBeLessThan(CALL_SETUP_MS);
    await expectAudioBothWays(alice, bob);
    await hangUp(alice, bob);
  });

  it('(d) alice calls bob and cancels before he answers: CANCEL, 487, both sides end', async () => {
    const [alice, bob] = await Promise.all([phone('alice'), phone('bob')]);
    const [a0, b0] = await Promise.all([alice.mark(), bob.mark()]);
    await alice.call('bob');
    await bob.waitFor({ type: 'incoming' }, CALL_SETUP_MS, b0);
    await alice.waitFor({ type: 'progress', status: 180 }, STEP_MS, a0);
    await alice.cancel();
    await alice.waitFor({ type: 'wire', dir: 'out', startsWith: 'CANCEL ' }, STEP_MS, a0);
    await bob.waitFor({ type: 'wire', dir: 'in', startsWith: 'CANCEL ' }, STEP_MS, b0);
    await bob.waitFor({ type: 'failed', originator: 'remote', cause: 'Canceled' }, STEP_MS, b0);
    await alice.waitFor({ type: 'failed', originator: 'local', cause: 'Canceled' }, STEP_MS, a0);
    await alice.waitFor({ type: 'wire', dir: 'in', startsWith: 'SIP/2.0 487', method: 'INVITE' }, STEP_MS, a0);
    await alice.waitFor({ type: 'wire', dir: 'out', startsWith: 'ACK ' }, STEP_MS, a0);
  });

  it('(e) a SIP.js phone calls a JsSIP phone: answer, audio both ways, BYE', async () => {
    const [alice, bob] = await Promise.all([phone('alice', 'sipjs'), phone('bob', 'jssip')]);
    expect(await establish(alice, bob, 'bob')).toBeLessThan(CALL_SETUP_MS);
    await expectAudioBothWays(alice, bob);
    await hangUp(bob, alice);
  });

  it('(e) and the other way: a JsSIP phone calls a SIP.js phone, which answers and hangs up', async () => {
    const [alice, bob] = await Promise.all([phone('alice', 'jssip'), phone('bob', 'sipjs')]);
    expect(await establish(alice, bob, 'bob')).toBeLessThan(CALL_SETUP_MS);
    await expectAudioBothWays(alice, bob);
    await hangUp(bob, alice);
  });

  it("(f) bob's tab closes: he leaves the registrar at once, and alice's call to him fails with 480", async () => {
    const [alice, bob] = await Promise.all([phone('alice'), phone('bob')]);
    expect(await bindingsOf('bob')).toHaveLength(1);
    const closed = Date.now();
    await bob.close();
    await until(async () => (await bindingsOf('bob')).length === 0, 1000, "bob's binding to go");
    expect(Date.now() - closed).toBeLessThan(1000);
    const a0 = await alice.mark();
    await alice.call('bob');
    expect(await alice.waitFor({ type: 'failed' }, CALL_SETUP_MS, a0)).toMatchObject({ originator: 'remote', status: 480 });
  });
});
