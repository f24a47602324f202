/** TLS session resumption in a cluster: the workers share the primary's session-ticket keys (issue 17.4). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startWsgate, type WsgateProcess } from '@wsgate/test-kit';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const core = pathToFileURL(fileURLToPath(new URL('../../dist/index.js', import.meta.url))).href;

let running: WsgateProcess | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** One HTTPS request on a fresh TLS connection, offering `session`: which worker answered, whether it resumed, the next ticket. */
function ask(port: number, session: Buffer | undefined): Promise<{ pid: string; reused: boolean; ticket: Buffer | undefined }> {
  return new Promise((resolve, reject) => {
    let ticket: Buffer | undefined;
    let body = '';
    let reused = false;
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1.3', ...(session ? { session } : {}) }, () => {
      reused = socket.isSessionReused();
      socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    });
    socket.on('session', (s: Buffer) => (ticket = s));
    socket.on('data', (c: Buffer) => (body += c));
    socket.on('error', reject);
    // the route answers with its pid as the reason phrase: `HTTP/1.1 200 <pid>`
    socket.on('close', () => resolve({ pid: body.split('\r\n')[0]!.split(' ')[2] ?? '', reused, ticket }));
    setTimeout(() => socket.destroy(new Error('no answer in 5 s')), 5000).unref();
  });
}

describe('TLS in a cluster', () => {
  it('a client resumes its session on either worker: both answer, and every handshake after the first is resumed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-tls-resume-'));
    const port = await freePort();
    writeFileSync(join(dir, 'routes.mjs'), `import { defineRoutes } from ${JSON.stringify(core)};\nexport default defineRoutes({ 'http:request': (req) => req.reply(200, String(process.pid)) });\n`);
    writeFileSync(join(dir, 'wsgate.yaml'), `listeners: [{ host: 127.0.0.1, port: ${port}, tls: {} }]\nscript: ./routes.mjs\nworkers: 2\ndataDir: .wsgate\nkeepalive: { mechanism: none }\n`);
    running = await startWsgate(process.execPath, [cli, '--config', join(dir, 'wsgate.yaml')], { cwd: dir, timeoutMs: 20_000 });

    const first = await ask(port, undefined);
    expect(first.reused).toBe(false);
    let ticket = first.ticket;
    const pids = new Set([first.pid]);
    const resumed: boolean[] = [];
    // Batches of 20 at once until both workers have answered a resuming client (at most 30 batches, 20 s):
    // with SCHED_NONE the kernel picks the worker, and connections close together may all land on one.
    const deadline = Date.now() + 20_000;
    for (let batch = 0; batch < 30 && pids.size < 2 && Date.now() < deadline; batch++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => ask(port, ticket)));
      for (const r of answers) {
        pids.add(r.pid);
        resumed.push(r.reused);
      }
      ticket = answers.find((r) => r.ticket)?.ticket ?? ticket;
    }
    expect(pids.size).toBe(2);
    expect(resumed.every(Boolean)).toBe(true);
  }, 60_000);
});
