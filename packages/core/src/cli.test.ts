/**
 * The `wsgate` command as operators run it: the built dist/cli.js in a child process (`tsc -b` first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '@wsgate/test-kit';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function launch(args: string[]): { child: ChildProcess; output: { stdout: string; stderr: string }; exited: Promise<Exit> } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = once(child, 'close').then(([code]) => ({ code: code as number | null, ...output }));
  return { child, output, exited };
}

const run = (args: string[]) => launch(args).exited;

/** Starts the command and resolves with the `listening` log lines once all `count` are out. */
async function start(args: string[], count = 1) {
  const launched = launch(args);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const lines = launched.output.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const listening = lines.filter((l) => l.msg === 'listening');
    if (listening.length >= count) return { ...launched, listening };
    if (launched.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`wsgate did not start: ${JSON.stringify(launched.output)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A failure: exit code 1 and exactly one line on stderr, which is returned. */
function oneLine(result: Exit): string {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).toMatch(/^wsgate: [^\n]+\n$/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return result.stderr.trimEnd();
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first with "tsc -b" (CI runs "tsc -b && vitest run")`);
});

describe('wsgate command: start-up failures are one line on stderr and exit code 1', () => {
  it('an unknown flag', async () => {
    expect(oneLine(await run(['--bogus']))).toBe('wsgate: unknown option --bogus: run "wsgate --help" for the options');
  });

  it('a flag without its value, a bad --listen, a bad --log-level, two scripts', async () => {
    expect(oneLine(await run(['--config']))).toMatch(/^wsgate: Option '-c, --config <value>' argument missing: run "wsgate --help"/);
    expect(oneLine(await run(['--listen', '::1:80']))).toBe('wsgate: --listen ::1:80: expected HOST:PORT, put an IPv6 address in brackets, such as [::1]:8080');
    expect(oneLine(await run(['--listen', '127.0.0.1:70000']))).toBe('wsgate: --listen 127.0.0.1:70000: the port must be an integer from 0 to 65535');
    expect(oneLine(await run(['--log-level', 'loud']))).toBe('wsgate: --log-level loud: unknown level: use one of debug, info, warn, error, silent');
    expect(oneLine(await run(['--script', 'a.ts', 'b.ts']))).toMatch(/^wsgate: two route scripts given/);
  });

  it('a port in use', async () => {
    const blocker = net.createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const line = oneLine(await run(['--listen', `127.0.0.1:${port}`]));
      expect(line).toMatch(/^wsgate: listeners\[0\]/);
      expect(line).toContain(String(port));
    } finally {
      blocker.close();
    }
  });

  it('a missing certificate file', async () => {
    expect(oneLine(await run(['--config', fixturePath('cli-missing-cert.yaml')]))).toBe(
      `wsgate: listeners[0].tls.cert: cannot read ${fixturePath('no-such-cert.pem')} (ENOENT): give the path of a PEM certificate, or remove cert and key to use a self-signed certificate`,
    );
  });

  it('an unreadable route script', async () => {
    const missing = fixturePath('no-such-script.ts');
    expect(oneLine(await run(['--listen', '127.0.0.1:0', '--script', missing]))).toBe(
      `wsgate: cannot read route script ${missing} (ENOENT): check script.path in the config, or --script`,
    );
  });

  it('a route script that throws or does not parse, with the place in the source', async () => {
    expect(oneLine(await run(['--listen', '127.0.0.1:0', fixturePath('test-throws.ts')]))).toBe(
      `wsgate: route script ${fixturePath('test-throws.ts')} failed to load: Error: no port in the table at ${fixturePath('test-throws.ts')}:4:37: fix the script`,
    );
    expect(oneLine(await run(['--listen', '127.0.0.1:0', fixturePath('test-syntax-error.mjs')]))).toContain(
      `SyntaxError: Unexpected token ';' at ${fixturePath('test-syntax-error.mjs')}:3:21: fix the script`,
    );
  });

  it('an invalid config: every error on the one line', async () => {
    const file = fixturePath('cli-invalid.yaml');
    expect(oneLine(await run(['--config', file]))).toBe(
      `wsgate: invalid config ${file}: listeners[0].port: must be an integer from 0 to 65535, got "80a"; ` +
        'limits.maxHeaderSzie: unknown field (known: maxHeaderSize, headerTimeout, tlsHandshakeTimeout, keepAliveTimeout, maxConnections, maxPayload, sendQueue, routeTimeout), did you mean maxHeaderSize?',
    );
  });

  it('a config file that cannot be read', async () => {
    const file = fixturePath('no-such-config.yaml');
    expect(oneLine(await run(['-c', file]))).toBe(
      `wsgate: cannot read config file ${file} (ENOENT: no such file or directory): check the path and the file's permissions`,
    );
  });
});

describe('wsgate command: running', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wsgate-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--help and --version print and exit 0', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: wsgate \[options\] \[SCRIPT\]/);
    const version = await run(['-v']);
    expect(version).toMatchObject({ code: 0, stderr: '' });
    expect(version.stdout).toMatch(/^wsgate \d+\.\d+\.\d+\n$/);
  });

  it('starts from a config with a script, says where it listens, serves, and exits 0 on SIGTERM', async () => {
    const { child, listening, exited } = await start(['--config', fixturePath('cli-ok.yaml')]);
    expect(listening).toEqual([expect.objectContaining({ level: 30, name: 'plain', url: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+$/) })]);
    const port = Number(new URL(listening[0]!.url as string).port);
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(body).toBe('hello from a TypeScript route script');

    const started = Date.now();
    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('"msg":"stopped"');
  });

  it('--listen replaces the listeners; with no config, the defaults apply', async () => {
    const { child, listening, exited } = await start(['--listen', '127.0.0.1:0', '-l', ':0', '--log-level', 'debug'], 2);
    expect(listening.map((l) => l.name)).toEqual(['127.0.0.1:0', '127.0.0.1:0']);
    child.kill('SIGINT');
    expect((await exited).code).toBe(0);
  });

  it('serves wss:// with a self-signed certificate kept in dataDir', async () => {
    const config = path.join(dir, 'tls.yaml');
    await writeFile(config, `listeners:\n  - { name: secure, port: 0, tls: true }\ndataDir: data\nscript: ${JSON.stringify(fixturePath('test-routes.ts'))}\n`);
    const { child, listening, exited } = await start(['-c', config]);
    expect(listening[0]).toMatchObject({ name: 'secure', url: expect.stringMatching(/^wss:\/\/127\.0\.0\.1:\d+$/) });
    const ca = await readFile(path.join(dir, 'data', 'tls', 'self-signed-cert.pem'), 'utf8');
    const socket = tls.connect({ host: '127.0.0.1', port: Number(new URL(listening[0]!.url as string).port), ca, servername: 'localhost' });
    await once(socket, 'secureConnect');
    expect(socket.authorized).toBe(true);
    socket.destroy();
    child.kill('SIGTERM');
    expect((await exited).code).toBe(0);
  });

  it('a second signal while closing exits at once with 1', async () => {
    const { child, output, listening, exited } = await start(['--listen', '127.0.0.1:0', fixturePath('test-slow.ts')]);
    // A request the script answers only after 10 s keeps the graceful close (grace 5 s) waiting.
    const request = http.get(String(listening[0]!.url).replace('ws:', 'http:'));
    request.on('error', () => {});
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill('SIGTERM');
    while (!output.stdout.includes('"msg":"stopping"')) await new Promise((resolve) => setTimeout(resolve, 20));
    const signalled = Date.now();
    child.kill('SIGINT');
    const result = await exited;
    expect(result.code).toBe(1);
    expect(Date.now() - signalled).toBeLessThan(2000);
    expect(result.stderr).toBe('wsgate: second SIGINT while closing: exiting at once\n');
  });
});
