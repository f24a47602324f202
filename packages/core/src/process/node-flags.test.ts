/**
 * wsgate's launchers start node with NODE_FLAGS: the `wsgate` command through its first line, `npm start`,
 * and cluster workers through withNodeFlags.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALLOCATOR_ENV, NODE_FLAGS, withAllocatorEnv, withNodeFlags } from './node-flags.js';

const assignments = Object.entries(ALLOCATOR_ENV).map(([name, value]) => `${name}=${value}`).join(' ');

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const rootPackage = fileURLToPath(new URL('../../../../package.json', import.meta.url));

describe('NODE_FLAGS', () => {
  it('is what the wsgate command starts node with, and that first line runs', async () => {
    const shebang = readFileSync(cli, 'utf8').split('\n', 1)[0]!;
    expect(shebang).toBe(`#!/usr/bin/env -S ${assignments} node ${NODE_FLAGS.join(' ')}`);
    // What the kernel does with that line, spelled out: node must accept the flags and start the command.
    const [command, ...args] = shebang.slice(2).split(' ');
    const { stdout } = await promisify(execFile)(command!, [...args, cli, '--version'], {
      env: { ...process.env, PATH: `${process.execPath.replace(/\/[^/]+$/, '')}:${process.env.PATH ?? ''}` },
    });
    expect(stdout.trim()).toMatch(/^wsgate \d+\.\d+\.\d+$/);
  });

  it("is what the checkout's own `npx wsgate` (scripts/wsgate.mjs) starts node with", () => {
    const script = fileURLToPath(new URL('../../../../scripts/wsgate.mjs', import.meta.url));
    expect(readFileSync(script, 'utf8').split('\n', 1)[0]).toBe(`#!/usr/bin/env -S ${assignments} node ${NODE_FLAGS.join(' ')}`);
  });

  it('is what npm start runs the sample gateway with', () => {
    const start = (JSON.parse(readFileSync(rootPackage, 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
    expect(start).toContain(`${assignments} node ${NODE_FLAGS.join(' ')} packages/core/dist/cli.js`);
  });

  it('adds the flags to a worker command line, leaving a flag the operator set alone', () => {
    expect(withNodeFlags([])).toEqual([...NODE_FLAGS]);
    expect(withNodeFlags(['--cpu-prof'])).toEqual(['--cpu-prof', ...NODE_FLAGS]);
    const others = (flag: string) => NODE_FLAGS.filter((f) => !f.startsWith(flag));
    expect(withNodeFlags(['--initial-old-space-size=256'])).toEqual(['--initial-old-space-size=256', ...others('--initial-old-space-size')]);
    expect(withNodeFlags(['--initial_old_space_size=256'])).toEqual(['--initial_old_space_size=256', ...others('--initial-old-space-size')]);
  });

  it('keeps young collections on the main thread unless the operator asks for helper threads', () => {
    expect(NODE_FLAGS).toContain('--no-parallel-scavenge');
    // A boolean V8 flag given either way is the operator's: `--parallel-scavenge` must not be undone after it.
    const given = withNodeFlags(['--parallel-scavenge']);
    expect(given).toContain('--parallel-scavenge');
    expect(given).not.toContain('--no-parallel-scavenge');
    expect(withNodeFlags(['--no-parallel_scavenge']).filter((f) => /parallel.scavenge/.test(f))).toEqual(['--no-parallel_scavenge']);
  });

  it('adds the allocator setting to a worker environment, leaving a value the operator set alone', () => {
    expect(withAllocatorEnv({ PATH: '/bin' })).toEqual({ PATH: '/bin', ...ALLOCATOR_ENV });
    expect(withAllocatorEnv({ MALLOC_TRIM_THRESHOLD_: '131072' })).toEqual({ MALLOC_TRIM_THRESHOLD_: '131072' });
  });
});
