/**
 * The operator's view of a registrar, through the real `wsgate` command with two workers: `wsgate ctl
 * registrations` gathers each worker's bindings through the primary, the metrics listener sums the SIP
 * counters and the bindings gauge over the workers, and the log lines carry the Call-ID.
 */
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runToEnd, freePort, startWsgate, until, type WsgateProcess } from '@wsgate/test-kit';
import { parseMessage } from '../index.js';

const CLI = fileURLToPath(new URL('../../../core/dist/cli.js', import.meta.url));
const SIP = pathToFileURL(fileURLToPath(new URL('../../dist/index.js', import.meta.url))).href;
const TOKEN = 'sip-ctl-token-0123456789';
const WORKER_ID_SPAN = 1_000_000_000;

const ROUTES = `import { defineRoutes } from '@wsgate/core';
import { registrar, registrationsView, sipMetrics } from ${JSON.stringify(SIP)};
export default ({ gateway }) => {
  const reg = registrar({ domains: ['example.com'], metrics: sipMetrics(gateway), logger: gateway.logger });
  const view = registrationsView(gateway, reg);
  return defineRoutes({
    'http:request': (req) => req.handshake({ protocols: ['sip'], requireProtocol: true }),
    ...reg.routes,
    'routes:close': () => {
      reg.close();
      view.remove();
    },
  });
};
`;

const register = (user: string) =>
  [
    'REGISTER sip:example.com SIP/2.0',
    `Via: SIP/2.0/WS ${user}.invalid;branch=z9hG4bK${user}`,
    'Max-Forwards: 70',
    `To: <sip:${user}@example.com>`,
    `From: <sip:${user}@example.com>;tag=${user}`,
    `Call-ID: call-${user}-1`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:${user}@${user}.invalid;transport=ws;ob>;+sip.instance="<urn:uuid:${user.padEnd(8, '0')}-0000-1000-8000-000000000001>";reg-id=1`,
    'Expires: 600',
    '',
    '',
  ].join('\r\n');

let wsgate: WsgateProcess | undefined;
afterEach(async () => {
  await wsgate?.stop();
  wsgate = undefined;
});

const ctl = (...args: string[]) => runToEnd(process.execPath, [CLI, 'ctl', ...args]);

async function registered(port: number, user: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, 'sip');
  await once(ws, 'open');
  ws.send(register(user));
  const m = parseMessage((await once(ws, 'message'))[0] as Buffer);
  if (m.kind !== 'response' || m.status !== 200) throw new Error(`${user}: REGISTER not answered 200`);
  return ws;
}

describe('wsgate ctl registrations, SIP metrics and logs under the wsgate command', () => {
  it('lists every worker’s bindings with filters, refuses an unknown filter naming the allowed ones, sums the metrics, logs the Call-ID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-sip-observe-'));
    const [port, metricsPort, managementPort] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(join(dir, 'routes.mjs'), ROUTES);
    writeFileSync(
      join(dir, 'wsgate.yaml'),
      [
        `listeners: [{ host: 127.0.0.1, port: ${port} }]`,
        'script: ./routes.mjs',
        'workers: 2',
        `metrics: { port: ${metricsPort} }`,
        `management: { port: ${managementPort}, token: ${TOKEN} }`,
        'log: { level: debug }',
        'keepalive: { mechanism: none }',
        'shutdown: { grace: 1 }',
        `dataDir: ${JSON.stringify(join(dir, 'data'))}`,
        '',
      ].join('\n'),
    );
    wsgate = await startWsgate(process.execPath, [CLI, '--config', join(dir, 'wsgate.yaml')], { timeoutMs: 30_000 });
    const w = wsgate;
    await until(() => w.lines().some((l) => l.msg === 'management'), 10_000, 'the management listener');
    const base = ['--url', `http://127.0.0.1:${managementPort}`, '--token', TOKEN];

    const users = ['alice', 'bob', 'carol', 'dave'];
    const phones = new Map<string, WebSocket>();
    type Page = { total: number; rows: Array<{ aor: string; contact: string; connection: number; client: string; expiresIn: number }> };
    const list = async (): Promise<Page> => {
      const listed = await ctl(...base, 'registrations', '--json');
      expect(listed.err).toBe('');
      return JSON.parse(listed.out) as Page;
    };
    const workersOf = (p: Page) => new Set(p.rows.map((r) => Math.floor(r.connection / WORKER_ID_SPAN)));
    await Promise.all(users.map(async (user) => phones.set(user, await registered(port, user))));
    // The kernel picks the worker of each connection (SCHED_NONE), so a few may all land on one: more phones,
    // four at once, until both workers hold bindings; five batches at most.
    let page = await list();
    for (let batch = 0; batch < 5 && workersOf(page).size < 2; batch++) {
      const more = [1, 2, 3, 4].map((i) => `user${batch}${i}`);
      users.push(...more);
      await Promise.all(more.map(async (user) => phones.set(user, await registered(port, user))));
      page = await list();
    }
    const n = users.length;
    expect(page.total).toBe(n);
    expect(page.rows.map((r) => r.aor).sort()).toEqual(users.map((u) => `sip:${u}@example.com`).sort());
    // The primary joined both workers' lists.
    expect(workersOf(page)).toEqual(new Set([1, 2]));
    for (const r of page.rows) {
      expect(r.client).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(r.expiresIn).toBeGreaterThan(590);
      expect(r.expiresIn).toBeLessThanOrEqual(600);
    }
    // A page across the workers' lists is that slice of the joined list.
    const paged = JSON.parse((await ctl(...base, 'registrations', '--offset', '1', '--limit', '2', '--json')).out);
    expect(paged).toMatchObject({ total: n, offset: 1, limit: 2 });
    expect(paged.rows).toEqual(page.rows.slice(1, 3).map((r) => ({ ...r, expiresIn: expect.any(Number) })));
    expect(await ctl(...base, 'views')).toEqual({
      code: 0,
      out: 'registrations  SIP bindings held for flows on this gateway: AOR, contact, connection, client, seconds left (filters: --aor --user --connection)\n',
      err: '',
    });
    const alice = page.rows.find((r) => r.aor === 'sip:alice@example.com')!;
    expect(alice.contact).toBe('<sip:alice@alice.invalid;transport=ws;ob>;+sip.instance="<urn:uuid:alice000-0000-1000-8000-000000000001>";reg-id=1');

    const table = await ctl(...base, 'registrations', '--aor', 'sip:bob@example.com');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^AOR\s+CONTACT\s+CONNECTION\s+CLIENT\s+EXPIRES_IN\nsip:bob@example\.com\s+<sip:bob@bob\.invalid;transport=ws;ob>;\S+\s+\d+\s+127\.0\.0\.1:\d+\s+\d+\n1–1 of 1\n$/);
    const byUser = JSON.parse((await ctl(...base, 'registrations', '--user', 'carol', '--json')).out);
    expect(byUser.rows.map((r: { aor: string }) => r.aor)).toEqual(['sip:carol@example.com']);
    const byConnection = JSON.parse((await ctl(...base, 'registrations', '--connection', String(alice.connection), '--json')).out);
    expect(byConnection.rows.map((r: { aor: string }) => r.aor)).toEqual(['sip:alice@example.com']);
    const byFilter = JSON.parse((await ctl(...base, 'registrations', '--filter', 'user=dave', '--json')).out);
    expect(byFilter.rows.map((r: { aor: string }) => r.aor)).toEqual(['sip:dave@example.com']);
    expect(await ctl(...base, 'registrations', '--user', 'erin')).toEqual({ code: 0, out: 'no registrations (total 0)\n', err: '' });

    const unknown = await ctl(...base, 'registrations', '--contact', 'sip:x@y');
    expect(unknown).toEqual({ code: 1, out: '', err: 'wsgate: 400: view registrations has no filter "contact": its filters are aor, user, connection\n' });
    const badId = await ctl(...base, 'registrations', '--connection', 'alice');
    expect(badId.err).toBe('wsgate: 400: connection must be a connection id such as 42, got "alice"\n');

    const metrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    let text = await metrics();
    expect(text).toMatch(new RegExp(`^wsgate_sip_requests_total\\{method="REGISTER"\\} ${n}$`, 'm'));
    expect(text).toMatch(new RegExp(`^wsgate_sip_responses_total\\{class="2xx"\\} ${n}$`, 'm'));
    expect(text).toMatch(new RegExp(`^wsgate_sip_registrations ${n}$`, 'm'));

    // A phone's tab closes: its binding goes, from the gauge and from the listing.
    phones.get('alice')!.close();
    await until(async () => new RegExp(`^wsgate_sip_registrations ${n - 1}$`, 'm').test((text = await metrics())), 5000, 'the gauge to drop');
    expect(JSON.parse((await ctl(...base, 'registrations', '--json')).out).total).toBe(n - 1);

    const line = w.lines().find((l) => l.msg === 'REGISTER' && l.callId === 'call-bob-1');
    expect(line).toMatchObject({ level: 20, module: 'registrar', aor: 'sip:bob@example.com', status: 200, worker: expect.any(Number), conn: expect.any(Number) });
    for (const ws of phones.values()) ws.close();
  }, 90_000);
});
