/**
 * Issue 5's promise for proxied WebSockets: through the real `wsgate` command, a reload (SIGHUP, then
 * `POST /reload`) with a rewritten script and config leaves open tunnels — raw and message mode — relaying
 * both ways, and the UDP relay's sessions on their node, while new connections get the new script. The
 * script is TypeScript, so each load gets a fresh copy of this package (tsx): the port hand-over crosses copies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, freeUdpPort, startUpstream, udpClient, udpNode, until, type UdpNode, type Upstream } from '@wsgate/test-kit';

const dist = (pkg: string, file: string) => fileURLToPath(new URL(`../../../${pkg}/dist/${file}`, import.meta.url));
const cli = dist('core', 'cli.js');
const core = pathToFileURL(dist('core', 'index.js')).href;
const routes = pathToFileURL(dist('routes', 'index.js')).href;
const TOKEN = 'proxy-reload-token-0123456789';

/** Generation `v` of the script: its upstream, its message hook's tag, its media node. */
const script = (v: string, up: Upstream, media: UdpNode, udpPort: number) => `import { defineRoutes } from ${JSON.stringify(core)};
import { streamRelay, upstream } from ${JSON.stringify(routes)};

const pool = upstream(${JSON.stringify(up.url)});
// Message mode tags what the upstream sends, so a test can tell which script's hook a tunnel runs.
const tagged = pool.with({ onMessage: (m) => (m.from === 'upstream' ? '${v}:' + m.data.toString() : undefined) });
const media = streamRelay({ protocol: 'udp', listen: { port: ${udpPort} }, servers: ['127.0.0.1:${media.port}'] });
await media.listen();

export default defineRoutes({
  'http:request': (req) => req.proxy(req.path === '/messages' ? tagged : pool),
  'routes:close': (reason) => Promise.all([pool.retire(reason), media.retire(reason)]),
}, 'proxy-${v}');
`;

let child: ChildProcess | undefined;
const closers: (() => unknown)[] = [];
afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  for (const close of closers.splice(0)) await close();
});

async function open(port: number, path: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  closers.push(() => ws.terminate());
  await once(ws, 'open');
  return ws;
}

async function roundTrip(ws: WebSocket, text: string): Promise<string> {
  const reply = once(ws, 'message');
  ws.send(text);
  return String((await reply)[0]);
}

/** What each client gets when the upstream, unasked, sends `text` on every WebSocket it holds. */
async function pushed(up: Upstream, text: string, clients: readonly WebSocket[]): Promise<string[]> {
  const got = clients.map((ws) => once(ws, 'message').then(([data]) => String(data)));
  for (const s of up.sockets) s.send(text);
  return Promise.all(got);
}

/** A raw tunnel, a message-mode tunnel and a UDP session, opened under script generation `v`, which serves upstream `name`. */
async function openGeneration(port: number, rawPort: number, udpPort: number, v: number, name: string, localAddress: string) {
  const raw = await open(rawPort, '/raw');
  const msg = await open(port, '/messages');
  const media = await udpClient(localAddress);
  closers.push(() => media.close());
  expect(await roundTrip(raw, 'whoami')).toBe(name);
  expect(await roundTrip(msg, 'whoami')).toBe(`v${v}:${name}`);
  expect(await media.ask('hello', udpPort)).toBe(`jvb${name}:hello`);
  return { raw, msg, media };
}

describe('proxied WebSockets across a reload of the wsgate command', () => {
  it('keep relaying both ways (raw and message mode, UDP sessions too) after SIGHUP and POST /reload; new connections get the new script', async () => {
    const ups = [await startUpstream({ name: 'A' }), await startUpstream({ name: 'B' }), await startUpstream({ name: 'C' })];
    const nodes = [await udpNode('jvbA'), await udpNode('jvbB'), await udpNode('jvbC')];
    closers.push(...ups.map((u) => () => u.close()), ...nodes.map((n) => () => n.socket.close()));
    const [port, portB, mgmt, udpPort] = [await freePort(), await freePort(), await freePort(), await freeUdpPort()];
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-proxy-reload-'));
    const write = (v: number, listeners: string) => {
      writeFileSync(join(dir, 'routes.mts'), script(`v${v + 1}`, ups[v]!, nodes[v]!, udpPort));
      writeFileSync(
        join(dir, 'wsgate.yaml'),
        `listeners:\n${listeners}script: ./routes.mts\nmanagement: { port: ${mgmt}, token: ${TOKEN} }\nkeepalive: { mechanism: none }\nlog: { level: info }\n`,
      );
    };
    const listenerA = `  - { name: a, host: 127.0.0.1, port: ${port} }\n`;
    write(0, listenerA);
    child = spawn(process.execPath, [cli, '--config', join(dir, 'wsgate.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c));
    child.stderr!.on('data', (c: Buffer) => (out += c));
    await until(() => out.includes('"management"'), 20_000, `start, got: ${out}`);

    const { raw: raw1, msg: msg1, media: media1 } = await openGeneration(port, port, udpPort, 1, 'A', '127.0.0.71');

    // SIGHUP: script v2 (upstream B, media node B) and a second listener.
    write(1, listenerA + `  - { name: b, host: 127.0.0.1, port: ${portB} }\n`);
    child.kill('SIGHUP');
    await until(() => out.includes('"signal":"SIGHUP","msg":"reloaded"'), 20_000, `SIGHUP reload, got: ${out}`);
    expect(await roundTrip(raw1, 'whoami')).toBe('A');
    expect(await roundTrip(msg1, 'still v1')).toBe('v1:still v1');
    expect(await pushed(ups[0]!, 'from A', [raw1, msg1])).toEqual(['from A', 'v1:from A']);
    expect(await media1.ask('y', udpPort)).toBe('jvbA:y');
    const { raw: raw2, msg: msg2, media: media2 } = await openGeneration(port, portB, udpPort, 2, 'B', '127.0.0.72');

    // POST /reload: script v3 (upstream C), listener b gone again.
    write(2, listenerA);
    const api = await fetch(`http://127.0.0.1:${mgmt}/reload`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(200);
    for (const [ws, name, tag] of [[raw1, 'A', ''], [msg1, 'A', 'v1:'], [msg2, 'B', 'v2:']] as const) {
      expect(await roundTrip(ws, 'whoami')).toBe(`${tag}${name}`);
    }
    expect(await media1.ask('w', udpPort)).toBe('jvbA:w');
    expect(await media2.ask('w', udpPort)).toBe('jvbB:w');
    // The media node saw one source port per client throughout: the sessions moved, they were not reopened.
    expect([nodes[0]!.peers.size, nodes[1]!.peers.size]).toEqual([1, 1]);
    const msg3 = await open(port, '/messages');
    expect(await roundTrip(msg3, 'whoami')).toBe('v3:C');

    // Shutdown ends every generation's tunnels: 1001 in message mode, the TCP end passed on in raw mode.
    const closes = [raw1, raw2, msg1, msg2, msg3].map((ws) => once(ws, 'close').then(([code]) => code as number));
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
    const codes = await Promise.all(closes);
    expect(codes.slice(2)).toEqual([1001, 1001, 1001]);
  }, 60_000);
});
