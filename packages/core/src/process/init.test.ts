/**
 * `wsgate init` as users run it: the built dist/cli.js in a child process (`tsc -b` first). The last test
 * installs the project it makes as a user would, with @wsgate/handshake, core and routes packed by pnpm
 * (the registry has none of them) and typescript, tsx and @types/node from npm (its cache once seen), and
 * runs the project's own `npm test`. Needs the build and, the first time, the npm registry.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '@wsgate/core';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const core = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const FILES = ['.gitignore', 'README.md', 'management.token', 'package.json', 'routes.test.ts', 'routes.ts', 'tsconfig.json', 'wsgate.yaml'];
/** Packing, installing (the registry when npm's cache lacks something), the project's tests and a check. */
const BUDGET = 240_000;

/** A user's shell: none of the npm_* and NODE_PATH settings the test runner was started with. */
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_') && name !== 'NODE_PATH'));

function run(command: string, args: string[], cwd: string, timeout = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}
const wsgate = (args: string[], cwd: string) => run(process.execPath, [cli, ...args], cwd);

let work: string;
beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first with "tsc -b" (CI runs "tsc -b && vitest run")`);
  work = mkdtempSync(path.join(tmpdir(), 'wsgate-init-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('wsgate init', () => {
  it('makes the project in a new folder, and refuses a second time, naming the files and writing none', async () => {
    const made = await wsgate(['init', 'my-gateway'], work);
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    const dir = path.join(work, 'my-gateway');
    expect(readdirSync(dir).sort()).toEqual(FILES);
    expect(made.stdout).toBe(`wsgate: made a gateway project in ${dir}: ${FILES.join(', ')}\nnext: cd my-gateway && npm install && npm test && npm start\n`);

    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, any>;
    expect(manifest.name).toBe('my-gateway');
    expect(manifest.dependencies).toEqual({ '@wsgate/core': `^${core.version}`, '@wsgate/routes': `^${core.version}` });
    expect(Object.keys(manifest.devDependencies).sort()).toEqual(['@types/node', 'tsx', 'typescript']);
    expect(JSON.parse(readFileSync(path.join(dir, 'tsconfig.json'), 'utf8')).compilerOptions.strict).toBe(true);
    // The token is the management API's only lock: made fresh, readable by its owner alone.
    expect(statSync(path.join(dir, 'management.token')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(dir, 'management.token'), 'utf8').trim()).toMatch(/^[\w-]{32}$/);
    const config = await loadConfigFile(path.join(dir, 'wsgate.yaml'));
    expect(config.listeners.map((l) => l.host)).toEqual(['127.0.0.1']);
    expect([config.metrics?.host, config.management?.host]).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(config.script?.path).toBe(path.join(dir, 'routes.ts'));

    writeFileSync(path.join(dir, 'routes.ts'), '// mine\n');
    const again = await wsgate(['init'], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`wsgate: init: ${dir} has ${FILES.join(', ')} already: nothing was written; move them away or give another folder\n`);
    expect(readFileSync(path.join(dir, 'routes.ts'), 'utf8')).toBe('// mine\n');
  });

  it('one file of its own in the folder is enough to refuse: only that one is named, and nothing is written', async () => {
    const dir = path.join(work, 'has-a-config');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'wsgate.yaml'), 'listeners: [{ port: 9000 }]\n');
    writeFileSync(path.join(dir, 'notes.txt'), 'not ours\n');
    const refused = await wsgate(['init', dir], work);
    expect([refused.code, refused.stderr]).toEqual([1, `wsgate: init: ${dir} has wsgate.yaml already: nothing was written; move them away or give another folder\n`]);
    expect(readdirSync(dir).sort()).toEqual(['notes.txt', 'wsgate.yaml']);

    const file = await wsgate(['init', path.join(dir, 'notes.txt')], work);
    expect([file.code, file.stderr]).toEqual([1, `wsgate: init: ${path.join(dir, 'notes.txt')} is not a folder: give a folder, or a name for a new one\n`]);
    const extra = await wsgate(['init', 'a', 'b'], work);
    expect([extra.code, extra.stderr]).toEqual([1, 'wsgate: init: too many arguments (a b): give one folder\n']);
  });

  it(
    "installed with the packed @wsgate packages, the project passes its own npm test and the installed wsgate's check",
    { timeout: BUDGET },
    async () => {
      const dir = path.join(work, 'installed');
      expect((await wsgate(['init', dir], work)).code).toBe(0);
      const tarballs = path.join(work, 'tarballs');
      const filters = ['handshake', 'core', 'routes'].flatMap((name) => ['--filter', `@wsgate/${name}`]);
      const packed = await run('npx', ['--yes', 'pnpm@10.34.9', '-r', ...filters, 'pack', '--pack-destination', tarballs], repo, 60_000);
      expect(packed.code, packed.stderr).toBe(0);
      const files = readdirSync(tarballs).map((file) => path.join(tarballs, file));
      const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...files], dir, 150_000);
      expect(installed.code, installed.stderr).toBe(0);

      const tested = await run('npm', ['test'], dir, 60_000);
      expect(tested.code, `${tested.stdout}\n${tested.stderr}`).toBe(0);
      expect(tested.stdout).toMatch(/^# pass 4$/m);
      expect(tested.stdout).toMatch(/^# fail 0$/m);

      // The project's own wsgate: its check type-checks with the project's TypeScript and tsconfig.json.
      const checked = await run('npx', ['wsgate', 'check', '--config', 'wsgate.yaml'], dir);
      expect(checked.code, checked.stderr).toBe(0);
      expect(checked.stdout).toContain(`route script ${path.join(dir, 'routes.ts')} ok: loaded; type-checked by TypeScript 5.`);
      expect(checked.stdout).toContain(`with ${path.join(dir, 'tsconfig.json')}`);
      // Its templates shipped in the package.
      const again = await run('npx', ['wsgate', 'init', 'second'], dir);
      expect(again.code, again.stderr).toBe(0);
      expect(readdirSync(path.join(dir, 'second')).sort()).toEqual(FILES);
    },
  );
});
