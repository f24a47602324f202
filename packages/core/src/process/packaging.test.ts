/**
 * The packages as a user gets them from the registry: @wsgate/handshake, @wsgate/core and @wsgate/routes
 * packed (pnpm pack: workspace versions written out), installed with npm into an empty project outside the
 * repository, a route script written there, type-checked, and started with `npx wsgate`. Needs the build
 * (tsc -b) and the npm registry for the third-party dependencies (served from npm's cache once seen).
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, startUpstream, startWsgate, type Upstream, type WsgateProcess } from '@wsgate/test-kit';

const PUBLIC = ['handshake', 'core', 'routes'] as const;
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const tsc = path.join(repo, 'node_modules/typescript/bin/tsc');
/** The whole run: packing, installing (the registry when npm's cache lacks something), starting. */
const BUDGET = 240_000;

/** An operator's shell: none of the npm_* and NODE_PATH settings the test runner was started with. */
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_') && name !== 'NODE_PATH'));

function run(command: string, args: string[], cwd: string, timeout = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, timeout, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const SCRIPT = (upstreamUrl: string) => `import { defineRoutes, HttpError, type RouteFactory } from '@wsgate/core';
import { upstream } from '@wsgate/routes';

const routes: RouteFactory = () => {
  const backend = upstream(${JSON.stringify(upstreamUrl)});
  return defineRoutes({
    'http:request'(req) {
      if (req.path.startsWith('/up/')) return req.proxy(backend);
      if (req.path === '/teapot') throw new HttpError(418, 'short and stout');
      if (req.isWebSocketUpgrade) return req.handshake({ protocols: ['echo'], requireProtocol: true });
      return req.next();
    },
    'websocket:message'(conn, data, isBinary) {
      conn.send(data, { binary: isBinary });
    },
    'routes:close': (reason) => backend.retire(reason),
  });
};
export default routes;
`;

const TSCONFIG = {
  compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
  files: ['routes.ts'],
};

let work: string;
let project: string;
let upstream: Upstream;
let wsgate: WsgateProcess | undefined;
let port: number;
const took: Record<string, number> = {};

async function timed<T>(what: string, step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await step();
  } finally {
    took[what] = Date.now() - started;
  }
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'wsgate-packaging-'));
  const tarballs = path.join(work, 'tarballs');
  project = path.join(work, 'project');
  mkdirSync(project);
  upstream = await startUpstream({ name: 'backend' });

  const filters = PUBLIC.flatMap((name) => ['--filter', `@wsgate/${name}`]);
  await timed('pack', () => run('npx', ['--yes', 'pnpm@10.34.9', '-r', ...filters, 'pack', '--pack-destination', tarballs], repo));
  // What `npm init -y` writes: no "type", so the script is a CommonJS module to tsx and to tsc.
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'my-gateway', version: '1.0.0', private: true }, null, 2));
  const packed = readdirSync(tarballs).map((file) => path.join(tarballs, file));
  await timed('npm install', () => run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...packed, '@types/node@^20.19'], project));

  writeFileSync(path.join(project, 'routes.ts'), SCRIPT(upstream.url));
  writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  port = await freePort();
  wsgate = await timed('start', () => startWsgate('npx', ['wsgate', 'routes.ts', '--listen', `127.0.0.1:${port}`], { cwd: project, env, timeoutMs: 60_000 }));
}, BUDGET);

afterAll(async () => {
  await wsgate?.stop();
  await upstream?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  console.log(`packaging: ${JSON.stringify(took)} ms`);
});

describe('packaging', { timeout: BUDGET }, () => {
  it.each(PUBLIC)('@wsgate/%s installs with its versions written out, its types exported, README and LICENSE inside', (name) => {
    const dir = path.join(project, 'node_modules/@wsgate', name);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, any>;
    const ranges = { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies } as Record<string, string>;
    expect(Object.entries(ranges).filter(([, range]) => range.startsWith('workspace:'))).toEqual([]);
    expect(manifest.engines?.node).toMatch(/^>=20/);
    expect(manifest.license).toBe('MIT');
    expect(existsSync(path.join(dir, manifest.exports['.'].types))).toBe(true);
    expect(existsSync(path.join(dir, manifest.exports['.'].default))).toBe(true);
    expect(existsSync(path.join(dir, 'README.md'))).toBe(true);
    expect(readFileSync(path.join(dir, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(existsSync(path.join(dir, 'dist/.tsbuildinfo'))).toBe(false);
    // The source maps point at sources that shipped too, and tests did not ship.
    const map = JSON.parse(readFileSync(path.join(dir, 'dist/index.js.map'), 'utf8')) as { sources: string[] };
    for (const source of map.sources) expect(existsSync(path.join(dir, 'dist', source))).toBe(true);
    expect(readdirSync(path.join(dir, 'src'), { recursive: true }).filter((f) => String(f).endsWith('.test.ts'))).toEqual([]);
  });

  it('`wsgate` is the command: npx wsgate --version', async () => {
    expect(await run('npx', ['wsgate', '--version'], project)).toBe('wsgate 0.1.0\n');
  });

  it('a route script importing both packages type-checks against what was installed', async () => {
    await timed('tsc', () => run(process.execPath, [tsc, '-p', project], project));
  });

  it('npx wsgate routes.ts: a WebSocket terminated here, echoed', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, 'echo');
    await once(ws, 'open');
    expect(ws.protocol).toBe('echo');
    ws.send('hello');
    const [data] = await once(ws, 'message');
    expect(String(data)).toBe('hello');
    ws.close();
  });

  it('npx wsgate routes.ts: a WebSocket and a plain request proxied to the upstream by @wsgate/routes', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/up/ws`);
    await once(ws, 'open');
    ws.send('whoami');
    const [data] = await once(ws, 'message');
    expect(String(data)).toBe('backend');
    ws.close();

    const response = await fetch(`http://127.0.0.1:${port}/up/page`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('backend GET /up/page');
  });

  it("npx wsgate routes.ts: the script's HttpError is the gateway's class (one copy of @wsgate/core)", async () => {
    const response = await fetch(`http://127.0.0.1:${port}/teapot`);
    expect(response.status).toBe(418);
  });
});
