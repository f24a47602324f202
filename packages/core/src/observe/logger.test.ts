/**
 * The logger (pino) as the gateway uses it: real requests through a gateway whose lines are captured, and a
 * log file rotated under it.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, renameSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import { createLogger, type LogFields } from './logger.js';
import { defineRoutes } from '../script/routes.js';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

/** One plain HTTP request with these headers, on a real socket; resolves with the status. */
async function get(port: number, headers: Record<string, string>): Promise<number> {
  const req = http.get({ host: '127.0.0.1', port, path: '/', headers, agent: false });
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  res.resume();
  await once(res, 'end');
  return res.statusCode!;
}

describe('logger: what a line holds', () => {
  it('redacts Authorization, Proxy-Authorization, Cookie and a token, wherever the gateway puts headers', async () => {
    gw = await startTestGateway(
      defineRoutes({
        'http:request': (req) => {
          // What a script author writes to see a request: the whole header map, as headers and as req.headers.
          req.log.info({ headers: req.headers, req: { method: req.method, headers: req.headers }, token: 'tok-secret-3' }, 'request seen');
          return req.reply(200, 'OK');
        },
      }),
    );
    const status = await get(gw.port, {
      Authorization: 'Basic YWxpY2U6c2VjcmV0LTE=',
      'Proxy-Authorization': 'Bearer proxy-secret-4',
      Cookie: 'AUTH=cookie-secret-2',
      'X-Trace': 'kept',
    });
    expect(status).toBe(200);
    const line = gw.logs.find((l) => l.msg === 'request seen') as Record<string, any>;
    for (const headers of [line.headers, line.req.headers]) {
      expect(headers).toMatchObject({ authorization: '[Redacted]', 'proxy-authorization': '[Redacted]', cookie: '[Redacted]', 'x-trace': 'kept' });
    }
    expect(line.req.method).toBe('GET');
    expect(line.token).toBe('[Redacted]');
    expect(JSON.stringify(line)).not.toMatch(/secret/);
  });

  it('writes numeric levels (pino: 20 debug, 30 info, 40 warn, 50 error), the websocket lines at 30', async () => {
    gw = await startTestGateway(
      defineRoutes({
        'http:request': (req) => {
          req.log.debug({}, 'a debug line');
          req.log.info({}, 'an info line');
          req.log.warn({}, 'a warn line');
          req.log.error({ err: Object.assign(new Error('boom'), { code: 'EBOOM' }) }, 'an error line');
          return req.handshake({});
        },
      }),
    );
    const ws = new WebSocket(gw.url);
    await once(ws, 'open');
    ws.close();
    await until(() => gw!.logs.some((l) => l.msg === 'websocket closed'));
    const level = (msg: string) => gw!.logs.find((l) => l.msg === msg)?.level;
    expect(['a debug line', 'an info line', 'a warn line', 'an error line'].map(level)).toEqual([20, 30, 40, 50]);
    expect([level('websocket opened'), level('websocket closed')]).toEqual([30, 30]);
    expect(gw.logs.find((l) => l.msg === 'an error line')?.err).toMatchObject({ message: 'boom', code: 'EBOOM' });
    expect(gw.logs.every((l) => typeof l.time === 'number')).toBe(true);
  });

  it('child loggers: req.log carries the listener and the client, a child of it adds its own and keeps them', async () => {
    gw = await startTestGateway(
      defineRoutes({
        'http:request': (req) => {
          req.log.child({ user: 'alice' }).info({ step: 2 }, 'from a child');
          return req.reply(204, 'No Content');
        },
      }),
    );
    expect(await get(gw.port, {})).toBe(204);
    expect(gw.logs.find((l) => l.msg === 'from a child')).toMatchObject({
      listener: `127.0.0.1:0`,
      client: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      user: 'alice',
      step: 2,
    });
  });

  it('drops lines below its level and says so through isLevelEnabled()', () => {
    const lines: LogFields[] = [];
    const logger = createLogger({ level: 'warn', write: (l) => void lines.push(JSON.parse(l)) });
    logger.info({}, 'dropped');
    logger.child({ a: 1 }).warn({}, 'kept');
    // The command's start and stop lines: the same destination at info.
    logger.atLevel('info').info({}, 'announced');
    expect(lines).toEqual([expect.objectContaining({ level: 40, a: 1, msg: 'kept' }), expect.objectContaining({ level: 30, msg: 'announced' })]);
    expect([logger.isLevelEnabled('info'), logger.isLevelEnabled('warn')]).toEqual([false, true]);
    const silent = createLogger({ level: 'silent', write: (l) => void lines.push(JSON.parse(l)) });
    silent.error({}, 'nothing');
    expect(lines).toHaveLength(2);
  });
});

describe('logger: a log file', () => {
  it('appends to log.file; reopen() after a rotation writes to a new file at the path, from any child', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-log-'));
    const file = join(dir, 'wsgate.log');
    const logger = createLogger({ level: 'info', file });
    const child = logger.child({ worker: 1 });
    logger.info({ n: 1 }, 'before rotation');
    renameSync(file, `${file}.1`);
    child.info({ n: 2 }, 'still in the old file');
    expect(child.reopen?.()).toBe(file);
    child.info({ n: 3 }, 'after reopen');
    logger.info({ n: 4 }, 'root after reopen');
    const read = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as LogFields).n);
    expect(read(`${file}.1`)).toEqual([1, 2]);
    expect(read(file)).toEqual([3, 4]);
  });
});
