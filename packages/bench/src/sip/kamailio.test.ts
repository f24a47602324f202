/**
 * The SIP benchmark's peers are real: Debian's Kamailio with the config kamailio.ts writes, and wsgate's CLI
 * with wsgate-routes, each answer a REGISTER with a 401 digest challenge, then 200 to the credentials, refuse a
 * wrong password, and relay a MESSAGE (407, then the callee's 200) between two registered phones; the node floor
 * (node-floor.ts) challenges, binds and relays as they do.
 * scripts/test-deps.sh installs Kamailio; nothing here is skipped without it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@wsgate/test-kit';
import { ServerProcess } from '../gateway/servers.js';
import { Kamailio, kamailioConfig, readHa1s } from './kamailio.js';
import type { User } from './load.js';
import { Phone } from './phone.js';
import { makeUsers, writeHtdigest } from './users.js';
import { startWsgateSip } from './wsgate.js';

const DOMAIN = 'example.com';
const dir = mkdtempSync(join(tmpdir(), 'wsgate-sip-bench-test-'));
const htdigest = join(dir, 'htdigest');
const [alice, bob, carol] = makeUsers(3) as [User, User, User];
writeHtdigest(htdigest, DOMAIN, [alice, bob, carol]);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the Kamailio config', () => {
  it('holds each user of the realm once, by its MD5 HA1', () => {
    const ha1s = readHa1s(htdigest, DOMAIN);
    expect([...ha1s.keys()]).toEqual([alice.user, bob.user, carol.user]);
    const cfg = kamailioConfig({ port: 5080, domain: DOMAIN, htdigest }, ha1s);
    expect(cfg).toContain(`$sht(ha1=>${alice.user}) = "${ha1s.get(alice.user)}";`);
    expect(cfg).toContain('listen=tcp:127.0.0.1:5080');
    expect(() => readHa1s(htdigest, 'other.realm')).toThrow(/no MD5 htdigest line for realm other\.realm/);
  });
});

const servers = {
  Kamailio: async (port: number) => {
    const k = await Kamailio.start({ port, domain: DOMAIN, htdigest });
    return { stop: () => k.stop() };
  },
  wsgate: async (port: number) => {
    const w = await startWsgateSip({ port, domain: DOMAIN, htdigest });
    return { stop: () => w.stop() };
  },
};

for (const [name, start] of Object.entries(servers)) {
  describe(`${name} as the benchmark runs it`, () => {
    let server: Awaited<ReturnType<typeof start>>;
    let url: string;
    const opened: Phone[] = [];
    const open = async (user: User) => {
      const phone = await Phone.open({ url, domain: DOMAIN, ...user, timeoutMs: 5000 });
      opened.push(phone);
      return phone;
    };

    beforeAll(async () => {
      const port = await freePort();
      url = `ws://127.0.0.1:${port}/`;
      server = await start(port);
    }, 30_000);
    afterAll(async () => {
      await Promise.all(opened.map((p) => p.close()));
      await server?.stop();
    });

    it('answers a REGISTER with a digest challenge, then 200 to the credentials', async () => {
      const phone = await open(alice);
      expect(await phone.register()).toBe(200);
      expect(phone.challenges).toBe(1);
      // Again: a fresh challenge each time, as the benchmark repeats it.
      expect(await phone.register()).toBe(200);
      expect(phone.challenges).toBe(2);
    });

    it('refuses a wrong password with a second 401', async () => {
      const phone = await open({ user: carol.user, password: `${carol.password}-wrong` });
      expect(await phone.register()).toBe(401);
      expect(phone.challenges).toBe(1);
    });

    it('relays a MESSAGE between registered phones after a 407, and the callee answers it', async () => {
      const caller = await open(alice);
      const callee = await open(bob);
      expect(await caller.register()).toBe(200);
      expect(await callee.register()).toBe(200);
      const before = caller.challenges;
      expect(await caller.message(bob.user, 'hello')).toBe(200);
      expect(caller.challenges).toBe(before + 1);
      expect(callee.received).toBe(1);
    });
  });
}

// The node floor checks no credentials (it is the least a server does): it challenges, binds and relays.
describe('the node floor as the benchmark runs it', () => {
  let floor: ServerProcess;
  const opened: Phone[] = [];
  const open = async (user: User) => {
    const phone = await Phone.open({ url: `ws://127.0.0.1:${floor.port}/`, domain: DOMAIN, ...user, timeoutMs: 5000 });
    opened.push(phone);
    return phone;
  };
  beforeAll(async () => {
    floor = await ServerProcess.start({ name: 'node floor (SIP)', entry: '../sip/node-floor.js' });
  }, 30_000);
  afterAll(async () => {
    await Promise.all(opened.map((p) => p.close()));
    await floor?.stop();
  });

  it('challenges a REGISTER, binds the phone, and relays a MESSAGE after a 407 to the callee, whose 200 comes back', async () => {
    const caller = await open(alice);
    const callee = await open(bob);
    expect(await caller.register()).toBe(200);
    expect(await callee.register()).toBe(200);
    expect(caller.challenges).toBe(1);
    expect(await caller.message(bob.user, 'hello')).toBe(200);
    expect(caller.challenges).toBe(2);
    expect(callee.received).toBe(1);
    expect(await caller.message(carol.user, 'nobody')).toBe(480);
  });
});
