/**
 * Every guide in docs/guides/ runs as written, from the repository root after the build (issue 13). A guide
 * marks the shell blocks this test runs with an HTML comment on the line right above the ```sh fence:
 *
 * - `<!-- run: background -->`: each command starts a process that keeps running (a stand-in, the gateway);
 *   the next one starts once it has logged `listening`. All are stopped (SIGTERM) when the guide is done.
 * - `<!-- run -->`: each command runs in turn and must exit 0; the `#` lines right under a command, with no
 *   blank line between, are what it must print, in that order (`…` stands for anything). A `#` line after a
 *   blank line is prose.
 *
 * Every step is bounded in time; a failure names the guide's line, the command, its output and the logs of
 * what runs in the background.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const GUIDES = ['s1-kamailio', 's2-media-server', 's3-collab-cluster', 's4-tls-terminator'];
/** A check command's time; a background command's time to log `listening` (a first start makes its certificate). */
const RUN_MS = 15_000;
const START_MS = 30_000;

interface Step {
  readonly mode: 'run' | 'background';
  readonly command: string;
  /** Line in the guide, 1-based. */
  readonly line: number;
  readonly expect: string[];
}

/** The marked blocks of a guide, as steps in the guide's order. */
function stepsOf(markdown: string, where: string): Step[] {
  const lines = markdown.split('\n');
  const steps: Step[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!-- run(: background)? -->$/.exec(lines[i]!.trim());
    if (!marker) continue;
    if (lines[i + 1] !== '```sh') throw new Error(`${where}:${i + 1}: a run marker stands right above a \`\`\`sh block`);
    const mode = marker[1] ? 'background' : 'run';
    let last: Step | undefined;
    for (i += 2; lines[i] !== '```'; i++) {
      if (i >= lines.length) throw new Error(`${where}: the block under the marker is not closed`);
      const text = lines[i]!;
      if (text.trim() === '') last = undefined;
      else if (text.startsWith('#')) last?.expect.push(text.replace(/^#\s?/, ''));
      else {
        const line = i + 1;
        let command = text;
        while (command.endsWith('\\') && i + 1 < lines.length) command += `\n${lines[++i]}`;
        steps.push((last = { mode, command, line, expect: [] }));
      }
    }
  }
  return steps;
}

/** The expected lines as one pattern: in order, anything between them and at each `…`. */
function expectation(expected: readonly string[]): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(expected.flatMap((l) => l.trim().split('…').map((part) => escape(part.trim()))).join('[\\s\\S]*?'));
}

/** A command in bash from the repository root, as the guide's reader runs it, in a process group of its own. */
function shell(command: string) {
  const { NODE_PATH: _, ...env } = process.env; // pnpm's shims set it; a reader's shell has none
  const child = spawn('bash', ['-c', command], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  let exited = false;
  child.once('exit', () => (exited = true));
  // 'close': the command and whatever it left holding its output are gone.
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // the group is gone already
    }
  };
  return { command, output: () => output, exited: () => exited, closed, signal };
}
type Shell = ReturnType<typeof shell>;

/** Runs a check to its end; killed, with what it left behind, after `ms`. */
async function run(command: string, ms: number): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  const sh = shell(command);
  let timedOut = false;
  const timer = setTimeout(() => ((timedOut = true), sh.signal('SIGKILL')), ms);
  const code = await sh.closed;
  clearTimeout(timer);
  sh.signal('SIGKILL');
  return { code, output: sh.output(), timedOut };
}

/** Starts a long-running command; resolves once it has logged `listening` (a JSON line, as the gateway's). */
async function start(command: string, ms: number): Promise<Shell> {
  const sh = shell(command);
  const deadline = Date.now() + ms;
  const listening = () => sh.output().split('\n').some((l) => l.startsWith('{') && (JSON.parse(l) as { msg?: unknown }).msg === 'listening');
  while (!listening()) {
    if (sh.exited() || Date.now() > deadline) {
      await stop(sh, 0);
      throw new Error(`${sh.exited() ? 'it exited' : `${ms / 1000} s passed`} before it logged "listening"; it printed:\n${sh.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return sh;
}

/** SIGTERM to its group, as Ctrl-C's SIGINT would; SIGKILL after `graceMs`, and to whatever it left behind. */
async function stop(sh: Shell, graceMs: number): Promise<void> {
  sh.signal('SIGTERM');
  const timer = setTimeout(() => sh.signal('SIGKILL'), graceMs);
  await sh.closed;
  clearTimeout(timer);
  sh.signal('SIGKILL');
}

/** Plays a guide's steps; returns what went wrong, or undefined when every step did as the guide says. */
async function play(guide: string, steps: readonly Step[]): Promise<string | undefined> {
  const background: Shell[] = [];
  const logs = () => background.map((b) => `--- ${b.command}\n${b.output()}`).join('\n');
  try {
    for (const step of steps) {
      const where = `docs/guides/${guide}.md:${step.line}: ${step.command}`;
      if (step.mode === 'background') {
        try {
          background.push(await start(step.command, START_MS));
        } catch (err) {
          return `${where}\n${(err as Error).message}\n${logs()}`;
        }
        continue;
      }
      const { code, output, timedOut } = await run(step.command, RUN_MS);
      if (timedOut) return `${where}\ndid not end within ${RUN_MS / 1000} s; it printed:\n${output}\n${logs()}`;
      if (code !== 0) return `${where}\nexited ${code}; it printed:\n${output}\n${logs()}`;
      if (!expectation(step.expect).test(output)) return `${where}\nprinted\n${output}\nwhere the guide says\n${step.expect.join('\n')}\n${logs()}`;
    }
    return undefined;
  } finally {
    // Newest first: the gateway before the stand-ins it relays to.
    for (const b of background.reverse()) await stop(b, 10_000);
  }
}

describe('the guides, run as written', () => {
  for (const guide of GUIDES) {
    it(`${guide}.md: its stand-ins and gateway start, and every check answers as the guide says`, async () => {
      const steps = stepsOf(readFileSync(join(root, 'docs/guides', `${guide}.md`), 'utf8'), `docs/guides/${guide}.md`);
      // A guide that lost its marks would pass having run nothing.
      expect(steps.filter((s) => s.mode === 'background').length, 'background steps').toBeGreaterThan(0);
      expect(steps.filter((s) => s.mode === 'run' && s.expect.length > 0).length, 'checks with expected output').toBeGreaterThan(0);
      expect(await play(guide, steps)).toBeUndefined();
    }, 180_000);
  }

  it('reads the marks: background and checks, continued lines, expected output under a command only', () => {
    const doc = ['<!-- run: background -->', '```sh', 'node server.js', '```', '<!-- run -->', '```sh', '# prose', 'curl -s \\', '  http://x/', '# 404 … Not found', '', '# prose again', 'true', '```'].join('\n');
    expect(stepsOf(doc, 'doc')).toEqual([
      { mode: 'background', command: 'node server.js', line: 3, expect: [] },
      { mode: 'run', command: 'curl -s \\\n  http://x/', line: 8, expect: ['404 … Not found'] },
      { mode: 'run', command: 'true', line: 13, expect: [] },
    ]);
    expect(expectation(['404 … Not found']).test('HTTP 404 Not Found\r\n\r\nNot found\n')).toBe(true);
    expect(expectation(['200 OK']).test('404 Not found')).toBe(false);
  });
});

describe('docs/guides/wsgate.service', () => {
  // systemd's own checker, where this machine has it: an unknown key or a bad value is a warning on stderr.
  const analyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!analyze)('is a unit systemd-analyze verify takes without a word', () => {
    const verified = spawnSync('systemd-analyze', ['verify', join(root, 'docs/guides/wsgate.service')], { encoding: 'utf8', timeout: 10_000 });
    expect([verified.status, verified.stdout + verified.stderr]).toEqual([0, '']);
  });

  it('runs `wsgate --config /etc/wsgate/wsgate.yaml` under its own user, reloads with SIGHUP, outlasts the grace on stop', () => {
    const unit = readFileSync(join(root, 'docs/guides/wsgate.service'), 'utf8');
    const keys = new Map([...unit.matchAll(/^(\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(keys.get('ExecStart')).toBe('/usr/bin/env wsgate --config /etc/wsgate/wsgate.yaml');
    expect(keys.get('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(keys.get('User')).toBe('wsgate');
    expect(Number(keys.get('TimeoutStopSec'))).toBeGreaterThan(5); // shutdown.grace's default
    expect(keys.get('AmbientCapabilities')).toBe('CAP_NET_BIND_SERVICE');
    expect(keys.get('ReadWritePaths')).toBe('/var/lib/wsgate');
  });
});
