/**
 * The `wsgate` command's operator conventions, through the built dist/cli.js (`tsc -b` first): SIGUSR1
 * reopens the access log (as nginx), and never opens node's inspector; an access log that cannot be opened
 * stops the start; every connection gets its `websocket closed` line, those a shutdown drops included.
 */
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWsgate, until, upgradeRequest, type WsgateProcess } from '@wsgate/test-kit';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const core = pathToFileURL(fileURLToPath(new URL('../../dist/index.js', import.meta.url))).href;

let running: WsgateProcess | undefined;
afterEach(async () => {
  await running?.stop(2000);
  running = undefined;
});

/** A folder with an echo route script and a config `extra` is appended to. */
function project(extra: string): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-signals-'));
  writeFileSync(
    join(dir, 'routes.mjs'),
    `import { defineRoutes } from ${JSON.stringify(core)};
export default defineRoutes({
  'http:request': (req) => (req.isWebSocketUpgrade ? req.handshake({ protocols: ['echo'] }) : req.reply(200, 'OK', 'text/plain', 'hi')),
  'websocket:message': (conn, data) => conn.send(data),
});
`,
  );
  const config = join(dir, 'wsgate.yaml');
  writeFileSync(config, `listeners: [{ port: 0 }]\nscript: ./routes.mjs\nkeepalive: { mechanism: none }\n${extra}`);
  return { dir, config };
}

const urlOf = (p: WsgateProcess) => String(p.listening[0]!.url);
const httpOf = (p: WsgateProcess) => urlOf(p).replace('ws:', 'http:');

/** Whether something accepts connections on 127.0.0.1:`port`. */
function isOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

const linesOf = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

describe('SIGUSR1', () => {
  it('reopens the access log at its path after rotation, and does not open the inspector', async () => {
    const { dir, config } = project('accessLog: { path: access.log, format: "$request_uri $status" }\n');
    const log = join(dir, 'access.log');
    running = await startWsgate(process.execPath, [cli, '--config', config]);
    await fetch(`${httpOf(running)}/before`);
    await until(() => linesOf(log).length === 1, 3000, 'the first line');

    // logrotate: rename, then tell the gateway; it goes on writing to the renamed file until told.
    renameSync(log, `${log}.1`);
    await fetch(`${httpOf(running)}/between`);
    await until(() => linesOf(`${log}.1`).length === 2, 3000, 'the second line, in the renamed file');
    const inspectorBefore = await isOpen(9229);
    process.kill(running.child.pid!, 'SIGUSR1');
    await until(() => running!.lines().some((l) => l.msg === 'reopened logs'), 3000, 'the reopened line');
    await fetch(`${httpOf(running)}/after`);
    await until(() => linesOf(log).length === 1, 3000, 'a line in the new file');

    expect(linesOf(`${log}.1`)).toEqual(['/before 200', '/between 200']);
    expect(linesOf(log)).toEqual(['/after 200']);
    expect(running.output.stderr).not.toMatch(/Debugger listening/);
    if (!inspectorBefore) expect(await isOpen(9229)).toBe(false);
    // Still serving, and still stops on SIGTERM.
    expect(await (await fetch(httpOf(running))).text()).toBe('hi');
  });

  it('in a cluster, the primary has every worker reopen its access log', async () => {
    const { dir, config } = project('accessLog: { path: access.log, format: "$request_uri $status" }\nworkers: 2\n');
    const log = join(dir, 'access.log');
    running = await startWsgate(process.execPath, [cli, '--config', config], { timeoutMs: 20_000 });
    renameSync(log, `${log}.1`);
    process.kill(running.child.pid!, 'SIGUSR1');
    await until(() => running!.lines().filter((l) => l.msg === 'reopened logs').length === 2, 5000, 'two workers reopening');
    // Fresh connections (Connection: close), spread over both workers.
    for (let i = 0; i < 6; i++) await fetch(`${httpOf(running)}/after${i}`, { headers: { Connection: 'close' } });
    await until(() => linesOf(log).length === 6, 3000, 'six lines in the new file');
    expect(linesOf(`${log}.1`)).toEqual([]);
    expect(new Set(running.lines().filter((l) => l.msg === 'reopened logs').map((l) => l.worker))).toEqual(new Set([1, 2]));
    expect(running.output.stderr).not.toMatch(/Debugger listening/);
  });
});

/** Runs the command to its end (killed after 10 s: before the fix, a start went on serving). */
async function runToEnd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const [code] = await once(child, 'close');
  clearTimeout(timer);
  return { code: code as number | null, stdout, stderr };
}

describe('an access log that cannot be opened', () => {
  it('stops the start with exit 1 and one line naming the path and the fix', async () => {
    const { dir, config } = project('accessLog: { path: no-such-folder/access.log }\n');
    const { code, stdout, stderr } = await runToEnd(['--config', config]);
    const file = join(dir, 'no-such-folder', 'access.log');
    expect(code).toBe(1);
    expect(stderr).toBe(`wsgate: accessLog.path: cannot open ${file} (ENOENT): make the folder ${join(dir, 'no-such-folder')}, or change accessLog.path\n`);
    expect(stdout).not.toMatch(/"msg":"listening"/);
    // The same with workers: the primary says it once, before forking any.
    expect(await runToEnd(['--config', config, '--workers', '2'])).toEqual({ code: 1, stdout: '', stderr });
    // wsgate check (as nginx -t) says the same.
    expect(await runToEnd(['check', '--config', config])).toMatchObject({ code: 1, stderr });
  });
});

describe('shutdown', () => {
  it('logs `websocket closed` for every connection, those dropped when the grace period ends included', async () => {
    const { config } = project('shutdown: { grace: 0.5 }\n');
    running = await startWsgate(process.execPath, [cli, '--config', config]);
    const port = Number(new URL(urlOf(running)).port);
    const polite = await Promise.all(
      [1, 2].map(async () => {
        const ws = new WebSocket(urlOf(running!), 'echo');
        await once(ws, 'open');
        return ws;
      }),
    );
    // Two that never answer the close frame: the grace period ends, and the gateway drops them.
    const deaf = await Promise.all(
      [1, 2].map(async () => {
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => {});
        socket.write(upgradeRequest({ extra: ['Sec-WebSocket-Protocol: echo'] }));
        await once(socket, 'data');
        return socket;
      }),
    );
    await until(() => running!.lines().filter((l) => l.msg === 'websocket opened').length === 4, 3000, 'four opened lines');
    const exited = once(running.child, 'exit');
    process.kill(running.child.pid!, 'SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    const closed = running.lines().filter((l) => l.msg === 'websocket closed');
    expect(closed).toHaveLength(4);
    expect(new Set(closed.map((l) => l.conn))).toEqual(new Set(running.lines().filter((l) => l.msg === 'websocket opened').map((l) => l.conn)));
    expect(closed.filter((l) => l.code === 1001)).toHaveLength(2);
    expect(closed.filter((l) => l.code === 1006 && l.by === 'local')).toHaveLength(2);
    for (const ws of polite) ws.terminate();
    for (const s of deaf) s.destroy();
  });
});
