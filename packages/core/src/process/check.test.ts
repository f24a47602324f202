/**
 * `wsgate check` / `wsgate -t` as operators run it: the built dist/cli.js in a child process (`tsc -b` first),
 * on projects written to a temporary folder. The projects reach @wsgate/core, typescript and @types/node
 * through node_modules links to the workspace's, as an installed project would.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '@wsgate/test-kit';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
/** A check on a TypeScript project loads the compiler: a few seconds on a busy machine. */
const RUN_MS = 30_000;
/** An operator's shell: no NODE_PATH (pnpm's shims point it at every workspace package). */
const { NODE_PATH: _, ...env } = process.env;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd = repo, timeout = RUN_MS): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd, env, timeout, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

let work: string;
const servers: net.Server[] = [];

/** A port held by this test: a check that tried to listen on it would fail with EADDRINUSE. */
async function heldPort(): Promise<number> {
  const server = net.createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A folder with node_modules links to the workspace's packages named in `links`; an ES module project, as `wsgate init` makes. */
function project(name: string, links: Record<string, string>, files: Record<string, string>): string {
  const dir = path.join(work, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  for (const [pkg, target] of Object.entries(links)) {
    const link = path.join(dir, 'node_modules', pkg);
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(path.join(repo, target), link, 'dir');
  }
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  return dir;
}

const CORE = { '@wsgate/core': 'packages/core' };
const TYPESCRIPT = { ...CORE, typescript: 'node_modules/typescript', '@types/node': 'node_modules/@types/node' };

const ROUTES = `import { defineRoutes } from '@wsgate/core';

export default defineRoutes({
  'http:request'(req) {
    return req.reply(200, 'OK', 'text/plain', 'hello');
  },
});
`;

/** Loads at run time (tsx strips types), so only a type-checker sees the error, at 5:11. */
const TYPE_ERROR = `import { defineRoutes } from '@wsgate/core';

export default defineRoutes({
  'http:request'(req) {
    const port: string = req.port;
    const first: string = ['a', 'b'][0];
    return req.reply(200, 'OK', 'text/plain', port + first);
  },
});
`;

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first with "tsc -b" (CI runs "tsc -b && vitest run")`);
  work = mkdtempSync(path.join(tmpdir(), 'wsgate-check-'));
});

afterAll(() => {
  for (const server of servers) server.close();
  rmSync(work, { recursive: true, force: true });
});

describe('wsgate check', () => {
  it('a good config: exit 0, config ok and script ok, and no port opened (a start on the same config finds them taken)', { timeout: 2 * RUN_MS }, async () => {
    const [port, metrics, management] = [await heldPort(), await heldPort(), await heldPort()];
    const dir = project('good', CORE, {
      'routes.ts': ROUTES,
      'token': 'a-token-of-at-least-16-characters\n',
      'wsgate.yaml': [
        `listeners: [{ host: 127.0.0.1, port: ${port} }]`,
        'script: routes.ts',
        `metrics: { host: 127.0.0.1, port: ${metrics} }`,
        `management: { host: 127.0.0.1, port: ${management}, tokenFile: token }`,
      ].join('\n'),
    });
    const config = path.join(dir, 'wsgate.yaml');

    const checked = await run(['check', '--config', config]);
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);
    expect(checked.stdout).toBe(
      `wsgate: config ${config} ok\n` +
        `wsgate: route script ${path.join(dir, 'routes.ts')} ok: loaded; not type-checked: no typescript package installed in its project\n`,
    );
    // The ports were ours all along; a start does try them.
    const started = await run(['--config', config]);
    expect(started.code).toBe(1);
    expect(started.stderr).toMatch(/^wsgate: listeners\[0\]/);
  });

  it('a bad config: exit 1 and the line a start prints, naming the field', async () => {
    const file = fixturePath('cli-invalid.yaml');
    const [checked, dashT, started] = await Promise.all([run(['check', '-c', file]), run(['-t', '-c', file]), run(['-c', file])]);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toBe('');
    expect(checked.stderr).toBe(started.stderr);
    expect(dashT).toEqual(checked);
    expect(checked.stderr).toMatch(/^wsgate: invalid config \S+: listeners\[0\]\.port: must be an integer from 0 to 65535, got "80a"; /);
  });

  it('a file the config names and a start reads: the management token file is missing', async () => {
    const dir = project('no-token', CORE, { 'wsgate.yaml': 'listeners: [{ port: 0 }]\nmanagement: { port: 0, tokenFile: missing.token }\n' });
    const checked = await run(['check', '-c', path.join(dir, 'wsgate.yaml')]);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toBe(`wsgate: management.tokenFile: cannot read ${path.join(dir, 'missing.token')} (ENOENT): check the path\n`);
  });

  it('a script with a type error, in a project with TypeScript: exit 1 with file:line:col (strict defaults)', { timeout: RUN_MS }, async () => {
    const dir = project('typed', TYPESCRIPT, { 'routes.ts': TYPE_ERROR });
    const file = path.join(dir, 'routes.ts');
    const checked = await run(['check', file]);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toBe('wsgate: config given on the command line ok\n');
    expect(checked.stderr).toMatch(
      new RegExp(
        `^${escape(file)}:5:11: error TS2322: Type 'number' is not assignable to type 'string'\\.\n` +
          `wsgate: route script ${escape(file)}: 1 type error, found by TypeScript 5\\.\\d+\\.\\d+ with strict defaults \\(no tsconfig\\.json\\): fix the script\n$`,
      ),
    );
  });

  it("the project's tsconfig.json is the one used (noUncheckedIndexedAccess finds a second error)", { timeout: RUN_MS }, async () => {
    const tsconfig = { compilerOptions: { strict: true, noUncheckedIndexedAccess: true, module: 'NodeNext', target: 'ES2022', noEmit: true, types: ['node'] } };
    const dir = project('tsconfig', TYPESCRIPT, { 'routes.ts': TYPE_ERROR, 'tsconfig.json': JSON.stringify(tsconfig) });
    const file = path.join(dir, 'routes.ts');
    const checked = await run(['check', '--script', file]);
    expect(checked.code).toBe(1);
    const lines = checked.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(`${file}:5:11: error TS2322:`);
    expect(lines[1]).toBe(`${file}:6:11: error TS2322: Type 'string | undefined' is not assignable to type 'string'. Type 'undefined' is not assignable to type 'string'.`);
    expect(lines[2]).toContain(`2 type errors, found by TypeScript 5.`);
    expect(lines[2]).toContain(`with ${path.join(dir, 'tsconfig.json')}: fix the script`);
  });

  it('type errors past 50 are counted, not printed', { timeout: RUN_MS }, async () => {
    const lines = Array.from({ length: 60 }, (_, i) => `export const n${i}: string = ${i};`);
    const dir = project('many', TYPESCRIPT, { 'routes.ts': `${ROUTES}${lines.join('\n')}\n` });
    const checked = await run(['check', path.join(dir, 'routes.ts')]);
    expect(checked.code).toBe(1);
    const errors = checked.stderr.trimEnd().split('\n');
    expect(errors).toHaveLength(51);
    expect(errors[49]).toMatch(/routes\.ts:57:14: error TS2322: /);
    expect(errors[50]).toMatch(/: 60 type errors \(the first 50 shown\), found by TypeScript /);
  });

  it('a script whose top-level code never finishes: exit 1 after 30 s', { timeout: RUN_MS + 15_000 }, async () => {
    const dir = project('stuck', CORE, { 'routes.mjs': 'await new Promise(() => setInterval(() => {}, 1000));\nexport default 1;\n' });
    const started = Date.now();
    const checked = await run(['check', path.join(dir, 'routes.mjs')], repo, RUN_MS + 10_000);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toBe(
      `wsgate: route script ${path.join(dir, 'routes.mjs')} did not finish loading within 30 s: its top-level code waits on something; move that into a factory\n`,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(30_000);
  });

  it('-t is check, anywhere among the flags, and takes a start\'s flags', { timeout: RUN_MS }, async () => {
    const dir = project('alias', TYPESCRIPT, { 'routes.ts': ROUTES, 'wsgate.yaml': 'listeners: [{ port: 0 }]\nscript: routes.ts\n' });
    const config = path.join(dir, 'wsgate.yaml');
    const [check, dashT] = await Promise.all([run(['check', '-c', config]), run(['-c', config, '-t', '--listen', '127.0.0.1:1'])]);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/route script \S+ ok: loaded; type-checked by TypeScript 5\.\d+\.\d+ with strict defaults/);
    expect(dashT).toEqual(check);
    const bad = await run(['-t', '--listen', '127.0.0.1:70000']);
    expect([bad.code, bad.stderr]).toEqual([1, 'wsgate: --listen 127.0.0.1:70000: the port must be an integer from 0 to 65535\n']);
  });

  it('a factory default export is loaded, not called (it could bind a port); a wrong default export is refused', async () => {
    const marker = path.join(work, 'factory-ran');
    const factory = `import { writeFileSync } from 'node:fs';
import { defineRoutes } from '@wsgate/core';
export default () => {
  writeFileSync(${JSON.stringify(marker)}, 'ran');
  return defineRoutes({});
};
`;
    const dir = project('factory', CORE, { 'routes.ts': factory, 'none.ts': 'export const routes = 1;\n' });
    const checked = await run(['-t', path.join(dir, 'routes.ts')]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain('ok: loaded (a factory: not called here, it runs at start); not type-checked');
    expect(existsSync(marker)).toBe(false);

    const wrong = await run(['check', path.join(dir, 'none.ts')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      `wsgate: route script ${path.join(dir, 'none.ts')} has no default export: write export default defineRoutes({...}) (or a list of them, mounted in order), or a function returning that\n`,
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
