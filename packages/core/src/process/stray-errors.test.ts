/** Errors nobody catches, through the real `wsgate` command (built dist, `tsc -b` first): logged, counted, survived. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { fixturePath, freePort, until } from '@wsgate/test-kit';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

const text = async (url: string) => (await fetch(url)).text();

describe('stray errors in a route script', () => {
  it('logs an unawaited rejection and a throw in a timer with the script named, counts them, and keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-stray-'));
    const [port, metricsPort] = [await freePort(), await freePort()];
    const script = fixturePath('test-stray-errors.ts');
    writeFileSync(
      join(dir, 'wsgate.yaml'),
      `listeners: [{ port: ${port} }]\nscript: ${JSON.stringify(script)}\nmetrics: { port: ${metricsPort} }\nshutdown: { grace: 1 }\n`,
    );
    const gateway = spawn(process.execPath, [cli, '--config', join(dir, 'wsgate.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = gateway;
    let out = '';
    gateway.stdout!.on('data', (c: Buffer) => (out += c));
    gateway.stderr!.on('data', (c: Buffer) => (out += c));
    const strays = () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, any>)
        .filter((l) => l.msg === 'uncaught error; still serving');
    await until(() => out.includes('"msg":"metrics"'), 20_000, `start, got: ${out}`);

    expect(await text(`http://127.0.0.1:${port}/stray`)).toBe('strayed');
    await until(() => strays().length >= 2 || gateway.exitCode !== null, 5000, `two log lines, got: ${out}`);
    expect(gateway.exitCode, out).toBe(null);
    expect(strays()).toEqual([
      expect.objectContaining({ level: 50, kind: 'unhandledRejection', script, err: expect.objectContaining({ message: 'x' }) }),
      expect.objectContaining({ level: 50, kind: 'uncaughtException', script, err: expect.objectContaining({ message: 'y' }) }),
    ]);
    expect(await text(`http://127.0.0.1:${port}/`)).toBe('still serving');
    const metrics = await text(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(metrics).toContain('wsgate_uncaught_errors_total{kind="unhandledRejection"} 1');
    expect(metrics).toContain('wsgate_uncaught_errors_total{kind="uncaughtException"} 1');

    gateway.kill('SIGTERM');
    const [code] = await once(gateway, 'exit');
    expect(code).toBe(0);
  });
});
