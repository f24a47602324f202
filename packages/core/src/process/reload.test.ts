/** Reload without dropping connections, through the real `wsgate` command: SIGHUP and the management API. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, until } from '@wsgate/test-kit';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const core = pathToFileURL(fileURLToPath(new URL('../../dist/index.js', import.meta.url))).href;
const TOKEN = 'reload-token-0123456789';

const script = (prefix: string) => `import { defineRoutes } from ${JSON.stringify(core)};
export default defineRoutes({
  'http:request': (req) => (req.isWebSocketUpgrade ? req.handshake({ protocols: ['echo'] }) : req.next()),
  'websocket:message': (conn, data) => conn.send(${JSON.stringify(prefix)} + data),
}, 'reloadable');
`;


let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

function nextMessage(ws: WebSocket): Promise<string> {
  return once(ws, 'message').then(([data]) => String(data));
}

describe('reload', () => {
  it('swaps script, config and listeners on SIGHUP and via the API, keeps open WebSockets, refuses an invalid config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-reload-'));
    const [portA, portB, mgmt] = [await freePort(), await freePort(), await freePort()];
    const config = (listeners: string, extra = '') =>
      `listeners:\n${listeners}script: ./routes.mjs\nmanagement: { port: ${mgmt}, token: ${TOKEN} }\nkeepalive: { mechanism: none }\n${extra}`;
    const listenerA = `  - { name: a, port: ${portA} }\n`;
    const listenerB = `  - { name: b, port: ${portB} }\n`;
    writeFileSync(join(dir, 'routes.mjs'), script('v1:'));
    writeFileSync(join(dir, 'wsgate.yaml'), config(listenerA));

    child = spawn(process.execPath, [cli, '--config', join(dir, 'wsgate.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c));
    child.stderr!.on('data', (c: Buffer) => (out += c));
    await until(() => out.includes('"management"'), 15_000, `start, got: ${out}`);

    const ws = new WebSocket(`ws://127.0.0.1:${portA}`, 'echo');
    await once(ws, 'open');
    ws.send('x');
    expect(await nextMessage(ws)).toBe('v1:x');

    // SIGHUP: a new script and a second listener; the open WebSocket stays and gets the new routes.
    writeFileSync(join(dir, 'routes.mjs'), script('v2:'));
    writeFileSync(join(dir, 'wsgate.yaml'), config(listenerA + listenerB));
    child.kill('SIGHUP');
    await until(() => out.includes('"signal":"SIGHUP","msg":"reloaded"'), 10_000, `reload, got: ${out}`);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.send('y');
    expect(await nextMessage(ws)).toBe('v2:y');
    const onB = new WebSocket(`ws://127.0.0.1:${portB}`, 'echo');
    await once(onB, 'open');
    onB.send('z');
    expect(await nextMessage(onB)).toBe('v2:z');

    // An invalid config is refused, by signal and by the API; the running one keeps serving.
    writeFileSync(join(dir, 'wsgate.yaml'), config(listenerA + listenerB, 'limits: { maxPayload: lots }\n'));
    child.kill('SIGHUP');
    await until(() => out.includes('reload refused; the running config stays'), 10_000, 'refusal');
    expect(out).toContain('limits.maxPayload');
    const api = await fetch(`http://127.0.0.1:${mgmt}/reload`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(422);
    expect((await api.json()).error).toMatch(/^reload refused, the running config stays: .*limits\.maxPayload/);
    ws.send('still');
    expect(await nextMessage(ws)).toBe('v2:still');

    // The API reload, with listener b removed: b stops accepting, but its open WebSocket stays.
    writeFileSync(join(dir, 'routes.mjs'), script('v3:'));
    writeFileSync(join(dir, 'wsgate.yaml'), config(listenerA));
    const ok = await fetch(`http://127.0.0.1:${mgmt}/reload`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    onB.send('w');
    expect(await nextMessage(onB)).toBe('v3:w');
    const refused = new WebSocket(`ws://127.0.0.1:${portB}`, 'echo');
    await expect(once(refused, 'open')).rejects.toThrow(/ECONNREFUSED/);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
  });
});
