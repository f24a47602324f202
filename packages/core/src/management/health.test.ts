/**
 * The probes and process metrics on the metrics listener, through the built `wsgate` command (`tsc -b` first),
 * alone and with two workers: /healthz, /readyz (503 through a shutdown's drain), prom-client's default metrics.
 */
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startWsgate, until, upgradeRequest, type WsgateProcess } from '@wsgate/test-kit';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const core = pathToFileURL(fileURLToPath(new URL('../../dist/index.js', import.meta.url))).href;

let running: WsgateProcess | undefined;
afterEach(async () => {
  await running?.stop(3000);
  running = undefined;
});

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text() };
}

describe.each([
  ['one process', 1],
  ['two workers', 2],
])('the metrics listener, %s', (_name, workers) => {
  it('answers /healthz and /readyz, serves process and node metrics, and is not ready through the drain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-health-'));
    writeFileSync(
      join(dir, 'routes.mjs'),
      `import { defineRoutes } from ${JSON.stringify(core)};
export default defineRoutes({ 'http:request': (req) => req.handshake({ protocols: ['echo'] }) });
`,
    );
    const metricsPort = await freePort();
    writeFileSync(
      join(dir, 'wsgate.yaml'),
      `listeners: [{ port: 0 }]\nscript: ./routes.mjs\nworkers: ${workers}\nmetrics: { port: ${metricsPort} }\nkeepalive: { mechanism: none }\nshutdown: { grace: 2 }\n`,
    );
    running = await startWsgate(process.execPath, [cli, '--config', join(dir, 'wsgate.yaml')], { timeoutMs: 20_000 });
    const base = `http://127.0.0.1:${metricsPort}`;
    await until(() => running!.lines().some((l) => l.msg === 'metrics'), 10_000, 'the metrics line');
    expect(running.lines().find((l) => l.msg === 'metrics')).toMatchObject({ url: `${base}/metrics`, health: `${base}/healthz`, ready: `${base}/readyz` });

    expect(await get(`${base}/healthz`)).toEqual({ status: 200, text: 'alive\n' });
    const ready = await get(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.text).toBe(workers === 1 ? 'ready: 1 listener\n' : 'ready: 2 of 2 workers\n');
    const metrics = (await get(`${base}/metrics`)).text;
    expect(metrics).toMatch(/^process_cpu_seconds_total \d/m);
    expect(metrics).toMatch(/^process_resident_memory_bytes \d/m);
    expect(metrics).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(metrics).toMatch(/^wsgate_websocket_connections 0$/m);

    // A client that never answers the close frame holds the drain open for the grace period (2 s).
    const port = Number(new URL(String(running.listening[0]!.url)).port);
    const deaf = net.connect(port, '127.0.0.1');
    deaf.on('error', () => {});
    deaf.write(upgradeRequest({ extra: ['Sec-WebSocket-Protocol: echo'] }));
    await once(deaf, 'data');
    const exited = once(running.child, 'exit');
    process.kill(running.child.pid!, 'SIGTERM');
    await until(async () => (await get(`${base}/readyz`)).status === 503, 1500, '503 from /readyz');
    expect(await get(`${base}/readyz`)).toEqual({ status: 503, text: 'not ready: shutting down\n' });
    expect((await get(`${base}/healthz`)).status).toBe(200);
    expect((await exited)[0]).toBe(0);
    deaf.destroy();
  });
});
