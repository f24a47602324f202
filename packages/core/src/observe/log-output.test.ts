/**
 * What the `wsgate` command writes as logs, as an operator runs it (the built dist/cli.js in a child
 * process): JSON lines by default, pretty lines with `--pretty` or `log.pretty`, a log file, and the one
 * stderr line for a logging setting that cannot work. A `--require` hook sees every time pino-pretty is loaded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '@wsgate/test-kit';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Says on stderr when pino-pretty is loaded; with HIDE_PRETTY set, acts as if it were not installed. */
const HOOK = `
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/(^|[\\\\/])pino-pretty([\\\\/]|$)/.test(request)) {
    if (process.env.HIDE_PRETTY) throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' });
    process.stderr.write('hook: pino-pretty loaded\\n');
  }
  return load.call(this, request, ...rest);
};
`;

let dir: string;
let hook: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first with "tsc -b"`);
  dir = await mkdtemp(path.join(tmpdir(), 'wsgate-log-output-'));
  hook = path.join(dir, 'hook.cjs');
  await writeFile(hook, HOOK);
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function launch(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--require', hook, cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = once(child, 'close').then(([code]) => code as number | null);
  return { child, output, exited };
}

/** Starts the command, waits for `text` on stdout (or in `file`), stops it with SIGTERM; its output. */
async function runUntil(args: string[], text: string, file?: string) {
  const { child, output, exited } = launch(args);
  const seen = async () => (file ? (existsSync(file) ? await readFile(file, 'utf8') : '') : output.stdout);
  let found = false;
  await until(async () => (found = (await seen()).includes(text)) || child.exitCode !== null, 15_000, `"${text}" from wsgate ${args.join(' ')}`);
  expect(found, JSON.stringify(output)).toBe(true);
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  return { ...output, file: file ? await readFile(file, 'utf8') : '' };
}

describe('wsgate command: log output', () => {
  it('JSON lines with numeric levels by default, and pino-pretty is never loaded', async () => {
    const out = await runUntil(['--listen', '127.0.0.1:0'], '"msg":"listening"');
    const listening = out.stdout.split('\n').filter((l) => l.includes('"listening"')).map((l) => JSON.parse(l));
    expect(listening).toEqual([expect.objectContaining({ level: 30, msg: 'listening', pid: expect.any(Number) })]);
    expect(out.stderr).not.toContain('pino-pretty loaded');
  });

  it('--pretty, and log.pretty: true, write human-readable lines through pino-pretty', async () => {
    const config = path.join(dir, 'pretty.yaml');
    await writeFile(config, 'listeners: [{ name: plain, port: 0 }]\nlog: { pretty: true }\n');
    for (const args of [['--listen', '127.0.0.1:0', '--pretty'], ['--config', config]]) {
      const out = await runUntil(args, 'listening');
      expect(out.stderr).toContain('hook: pino-pretty loaded');
      expect(out.stdout).toMatch(/^\[[\d:.]+\] INFO( \([^)]*\))?: listening\n {4}url: "ws:\/\/127\.0\.0\.1:\d+"$/m);
      expect(out.stdout.split('\n').some((l) => l.startsWith('{'))).toBe(false);
    }
  });

  it('log.file: the lines go to the file, relative to the config, not to stdout', async () => {
    const config = path.join(dir, 'file.yaml');
    await writeFile(config, 'listeners: [{ port: 0 }]\nlog: { file: logs-here.log }\n');
    const file = path.join(dir, 'logs-here.log');
    const out = await runUntil(['--config', config], '"msg":"listening"', file);
    expect(out.stdout).toBe('');
    expect(JSON.parse(out.file.split('\n')[0]!)).toMatchObject({ level: 30, msg: 'listening' });
  });

  it('SIGUSR1 after a rotation of log.file: the next lines go to a new file at the path', async () => {
    const config = path.join(dir, 'rotate.yaml');
    const file = path.join(dir, 'rotate.log');
    await writeFile(config, `listeners: [{ port: 0 }]\nlog: { file: ${file} }\n`);
    const { child, exited } = launch(['--config', config]);
    const read = async (f: string) => (existsSync(f) ? await readFile(f, 'utf8') : '');
    await until(async () => (await read(file)).includes('"msg":"listening"'), 15_000, 'listening in the log file');
    await rename(file, `${file}.1`);
    child.kill('SIGUSR1');
    await until(async () => (await read(file)).includes('"msg":"reopened logs"'), 5000, 'reopened logs in the new file');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(JSON.parse((await read(file)).split('\n')[0]!)).toMatchObject({ level: 30, signal: 'SIGUSR1', files: [file], msg: 'reopened logs' });
    expect(await read(file)).toContain('"msg":"stopped"');
    expect(await read(`${file}.1`)).not.toContain('reopened logs');
  });

  it('a logging setting that cannot work is one stderr line naming the field and the fix, exit 1', async () => {
    const stderrOf = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const { output, exited } = launch(args, env);
      expect(await exited).toBe(1);
      expect(output.stderr).toMatch(/^wsgate: [^\n]+\n$/);
      return output.stderr.trimEnd();
    };
    expect(await stderrOf(['--listen', '127.0.0.1:0', '--pretty'], { HIDE_PRETTY: '1' })).toBe(
      'wsgate: log.pretty: pino-pretty is not installed: install it beside the gateway (npm install pino-pretty), or leave log.pretty and --pretty off for JSON lines',
    );
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, 'listeners: [{ port: 0 }]\nlog: { level: loud, pretty: yes please }\n');
    expect(await stderrOf(['--config', bad])).toBe(
      `wsgate: invalid config ${bad}: log.level: must be one of debug, info, warn, error, silent, got "loud"; ` +
        'log.pretty: must be true (human-readable lines, needs pino-pretty) or false (JSON lines), got "yes please"',
    );
    const missing = path.join(dir, 'missing.yaml');
    await writeFile(missing, 'listeners: [{ port: 0 }]\nlog: { file: no-such-folder/wsgate.log }\n');
    const cannotOpen = `wsgate: log.file: cannot open ${path.join(dir, 'no-such-folder/wsgate.log')} (ENOENT): make the folder ${path.join(dir, 'no-such-folder')}, or change log.file`;
    expect(await stderrOf(['--config', missing])).toBe(cannotOpen);
    // `wsgate check` says the same, and makes no file.
    expect(await stderrOf(['check', '--config', missing])).toBe(cannotOpen);
    expect(await stderrOf(['check', '--listen', '127.0.0.1:0', '--pretty'], { HIDE_PRETTY: '1' })).toMatch(/^wsgate: log\.pretty: pino-pretty is not installed: /);
  });
});
