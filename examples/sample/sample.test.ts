/**
 * The sample gateway end to end, on real sockets: the Kamailio route's answers, echo and SIP over
 * WebSocket, wss with the self-signed certificate, and the real `wsgate` command loading this TypeScript script.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Gateway, loadConfigFile, readConfigFile, resolveConfig, silentLogger } from '@wsgate/core';
import { digestAuthorization, digestChallenges, freePort, startWsgate, until } from '@wsgate/test-kit';
import sample from './routes.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'wsgate-sample-'));
let gateway: Gateway;
let wsPort: number;
let wssPort: number;
let otherPort: number;

beforeAll(async () => {
  // Three listeners; the route allows only the first two, as the original allows only 80 and 443.
  const config = resolveConfig(
    {
      listeners: [{ port: 0 }, { port: 0, tls: {} }, { port: 0, name: 'other' }],
      dataDir,
      keepalive: { mechanism: 'none' },
    },
    here,
  );
  gateway = new Gateway(config, { logger: silentLogger });
  await gateway.listen();
  [wsPort, wssPort, otherPort] = gateway.addresses().map((a) => a.port) as [number, number, number];
  gateway.use(await sample({ gateway, options: { ports: [wsPort, wssPort] } }));
});
afterAll(() => gateway.close({ grace: 0.2 }));

function open(url: string, protocols?: string | string[], options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, options);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, headers: res.headers })));
  });
}

async function raw(port: number, request: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(request);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString();
}

const upgrade = (host: string | undefined, protocol = 'sip') =>
  `GET / HTTP/1.1\r\n${host === undefined ? '' : `Host: ${host}\r\n`}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`;

describe('the Kamailio route', () => {
  it('upgrades with the sip subprotocol and the RFC accept value', async () => {
    const text = await new Promise<string>((resolve) => {
      const socket = net.connect(wsPort, '127.0.0.1', () => socket.write(upgrade(`127.0.0.1:${wsPort}`)));
      socket.once('data', (c: Buffer) => (socket.destroy(), resolve(c.toString())));
    });
    expect(text).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(text).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
    expect(text).toContain('Sec-WebSocket-Protocol: sip\r\n');
  });

  it('answers 403 Forbidden on a port that is not allowed, and closes', async () => {
    expect(await raw(otherPort, upgrade(`127.0.0.1:${otherPort}`))).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(await raw(otherPort, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
  });

  it('answers 403 to an upgrade whose Host is missing or not the gateway', async () => {
    expect(await raw(wsPort, upgrade(undefined))).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(await raw(wsPort, upgrade('evil.example.com'))).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    // One of its names, but on a port that is not one of its own.
    expect(await raw(wsPort, upgrade('localhost:1'))).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
  });

  it('answers plain HTTP with 404 Not found and closes the connection (set_reply_close)', async () => {
    const text = await raw(wsPort, 'GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 404 Not found\r\n/);
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('refuses a client that offers neither subprotocol with 400 naming sip and echo', async () => {
    const err = await open(`ws://127.0.0.1:${wsPort}`, 'chat').catch((e: { status: number; headers: Record<string, string> }) => e);
    expect(err).toMatchObject({ status: 400, headers: { 'sec-websocket-protocol': 'sip, echo' } });
    const none = await open(`ws://127.0.0.1:${wsPort}`).catch((e: { status: number }) => e);
    expect(none).toMatchObject({ status: 400 });
  });
});

describe('echo', () => {
  it('sends every message back unchanged: text as text, binary as binary', async () => {
    const ws = await open(`ws://127.0.0.1:${wsPort}`, 'echo');
    expect(ws.protocol).toBe('echo');
    const got: Array<[string, boolean]> = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => got.push([isBinary ? data.toString('hex') : data.toString(), isBinary]));
    ws.send('héllo');
    ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    ws.send('');
    await new Promise((r) => setTimeout(r, 100));
    while (got.length < 3) await once(ws, 'message');
    expect(got).toEqual([
      ['héllo', false],
      ['deadbeef', true],
      ['', false],
    ]);
    ws.close();
  });
});

describe('sip (RFC 7118) over wss with the self-signed certificate: registrar and proxy of example.com', () => {
  const request = (method: string, ruri: string, branch: string, extra: string[] = []) =>
    [
      `${method} ${ruri} SIP/2.0`,
      `Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=${branch}`,
      'Max-Forwards: 70',
      `To: <${method === 'REGISTER' ? 'sip:alice@example.com' : ruri}>`,
      'From: <sip:alice@example.com>;tag=a1b2c3',
      'Call-ID: call-1@example.com',
      `CSeq: ${branch.length} ${method}`,
      ...extra,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  const next = async (ws: WebSocket) => ((await once(ws, 'message')) as [Buffer])[0].toString();

  it('answers OPTIONS for the domain, challenges REGISTER (401) and INVITE (407), registers alice/alice-secret with digest', async () => {
    const ca = readFileSync(join(dataDir, 'tls', 'self-signed-cert.pem'));
    const ws = await open(`wss://localhost:${wssPort}`, 'sip', { ca });
    expect(ws.protocol).toBe('sip');
    ws.send(request('OPTIONS', 'sip:example.com', 'z9hG4bK776asdhds'));
    const ok = await next(ws);
    expect(ok).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(ok).toContain('Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK776asdhds;received=127.0.0.1\r\n');
    expect(ok).toContain('Call-ID: call-1@example.com\r\n');

    ws.send(request('INVITE', 'sip:bob@example.com', 'z9hG4bK2'));
    const challenged = await next(ws);
    expect(challenged).toMatch(/^SIP\/2\.0 407 /);
    expect(challenged).toMatch(/\r\nProxy-Authenticate: Digest realm="example.com"/);

    const contact = 'Contact: <sip:t2jtv6j5@df7jal23ls0d.invalid;transport=ws;ob>;+sip.instance="<urn:uuid:0f5a1c2e-8c3b-4b4e-9d1a-1c2b3c4d5e6f>";reg-id=1';
    ws.send(request('REGISTER', 'sip:example.com', 'z9hG4bK33', [contact]));
    const unauthorized = await next(ws);
    expect(unauthorized).toMatch(/^SIP\/2\.0 401 /);
    const md5 = digestChallenges([...unauthorized.matchAll(/\r\nWWW-Authenticate: (.*)/g)].map((m) => m[1]!)).find((c) => c.algorithm === 'MD5')!;
    const auth = `Authorization: ${digestAuthorization(md5, { user: 'alice', password: 'alice-secret', method: 'REGISTER', uri: 'sip:example.com' })}`;
    ws.send(request('REGISTER', 'sip:example.com', 'z9hG4bK444', [contact, auth]));
    const registered = await next(ws);
    expect(registered).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(registered).toContain('Contact: <sip:t2jtv6j5@df7jal23ls0d.invalid;transport=ws;ob>');
    ws.close();
  });

  it('refuses a TLS client that does not trust the certificate', async () => {
    await expect(open(`wss://localhost:${wssPort}`, 'sip')).rejects.toThrow(/self[- ]signed|certificate/i);
  });
});

describe('the wsgate command with this script', () => {
  it('starts from a YAML config, serves echo, and exits 0 on SIGTERM after closing with 1001', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-cli-'));
    const config = join(dir, 'wsgate.yaml');
    writeFileSync(config, `listeners:\n  - port: 0\nscript:\n  path: ${JSON.stringify(join(here, 'routes.ts'))}\nkeepalive:\n  mechanism: none\n`);
    const cli = fileURLToPath(new URL('../../packages/core/dist/cli.js', import.meta.url));
    const child = spawn(process.execPath, [cli, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (out += c));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line in: ${out}`)), 15_000);
      const check = () => {
        const m = /"url":"(ws:\/\/[^"]+)"/.exec(out);
        if (m) (clearTimeout(timer), resolve(m[1]!));
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
    });
    const ws = await open(url, 'echo');
    ws.send('through the CLI');
    const [data] = await once(ws, 'message');
    expect(data.toString()).toBe('through the CLI');
    const closed = once(ws, 'close');
    child.kill('SIGTERM');
    const [[code], [exitCode]] = await Promise.all([closed, once(child, 'exit')]);
    expect(code).toBe(1001);
    expect(exitCode).toBe(0);
  });
});

describe("npm start's config, and the README's Operations commands against it", () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));

  it('serves metrics, health and the management API on loopback, with a token it makes in dataDir', async () => {
    const config = await loadConfigFile(join(here, 'wsgate.yaml'));
    expect([config.metrics?.host, config.management?.host]).toEqual(['127.0.0.1', '127.0.0.1']);
    expect([config.management?.token, config.management?.tokenFile]).toEqual([undefined, undefined]);
    expect(config.accessLog?.path).toBe(join(here, 'access.log'));
  });

  it('runs every command of the README Operations block as written, on a copy of the config with free ports', async () => {
    // The sample's config as npm start reads it; only its ports, and where its files go, differ.
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-sample-ops-'));
    const [ws, wss, metrics, management] = [await freePort(), await freePort(), await freePort(), await freePort()];
    type SampleFile = { listeners: Record<string, unknown>[]; script: { path: string; options: Record<string, unknown> }; metrics: object; management: object };
    const file = (await readConfigFile(join(here, 'wsgate.yaml'))) as SampleFile;
    file.listeners = file.listeners.map((l, i) => ({ ...l, port: [ws, wss][i] }));
    file.script = { path: join(here, file.script.path), options: { ...file.script.options, ports: [ws, wss] } };
    file.metrics = { ...file.metrics, port: metrics };
    file.management = { ...file.management, port: management };
    const copy = join(dir, 'wsgate.json');
    writeFileSync(copy, JSON.stringify(file));

    // `node` by name, as npm start runs it: the pkill pattern below matches that command line.
    const gateway = await startWsgate('node', [join(root, 'scripts/wsgate.mjs'), '--config', copy], { listeners: 2, timeoutMs: 30_000, cwd: root });
    try {
      await until(() => gateway.lines().some((l) => l.msg === 'management'), 10_000, 'the management line');
      const lines = gateway.lines();
      expect(lines.find((l) => l.msg === 'generating a self-signed certificate')).toBeDefined();
      const tokenFile = join(dir, '.wsgate', 'management.token');
      expect(lines.find((l) => l.msg === 'management')).toMatchObject({ url: `http://127.0.0.1:${management}`, tokenFile });
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const client = await open(`ws://127.0.0.1:${ws}`, 'echo');

      const readme = readFileSync(join(root, 'README.md'), 'utf8');
      const section = readme.slice(readme.indexOf('## Operations'), readme.indexOf('\n## ', readme.indexOf('## Operations') + 1));
      const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
      const commands = block.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
      expect(commands).toHaveLength(7);
      const outputs = new Map<string, string>();
      for (const command of commands) {
        const local = command.replaceAll('examples/sample/wsgate.yaml', copy).replaceAll(':9100', `:${metrics}`);
        const run = spawnSync('sh', ['-c', local], { cwd: root, encoding: 'utf8', timeout: 30_000 });
        expect({ command, status: run.status, stderr: run.stderr }).toMatchObject({ status: 0, stderr: '' });
        outputs.set(command.split(' ').slice(-1)[0]!, run.stdout);
      }
      expect(outputs.get('status')).toMatch(/^pid\s+\d+\n[\s\S]*connections\s+1\n/);
      const list = outputs.get('list')!;
      expect(list).toMatch(/^ID\s+KIND\s+PROTOCOL\s+REMOTE/);
      expect(list).toMatch(/\n\d+\s+term\s+echo\s+127\.0\.0\.1:\d+\s/);
      expect(list).toContain(`127.0.0.1:${(client as unknown as { _socket: net.Socket })._socket.localPort}`);
      expect(outputs.get('reload')).toBe('reloaded\n');
      expect(outputs.get('registrations')).toBe('no registrations (total 0)\n');
      expect(outputs.get('http://127.0.0.1:9100/readyz')).toBe('ready: 2 listeners\n');
      expect(outputs.get('http://127.0.0.1:9100/metrics')).toMatch(/^wsgate_websocket_connections 1$[\s\S]*^process_cpu_seconds_total /m);
      await until(() => gateway.lines().some((l) => l.msg === 'reopened logs'), 3000, 'the reopened line');
      expect(gateway.lines().find((l) => l.msg === 'reopened logs')).toMatchObject({ signal: 'SIGUSR1', files: [join(dir, 'access.log')] });
      client.close();
    } finally {
      await gateway.stop();
    }
    // Seven commands, each a process of its own (npx, then node): a loaded machine takes seconds for each.
  }, 90_000);
});
