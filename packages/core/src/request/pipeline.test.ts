import { describe, expect, it } from 'vitest';
import { HttpError } from '../errors.js';
import { inject } from './inject.js';
import { createLogger, type LogFields } from '../observe/logger.js';
import { defineRoutes } from '../script/routes.js';

const upgradeHeaders = {
  Host: 'localhost',
  Upgrade: 'websocket',
  Connection: 'Upgrade',
  'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version': '13',
  'Sec-WebSocket-Protocol': 'chat, sip',
};

describe('route pipeline', () => {
  it('runs mounted routes in order; next() and no action fall through', async () => {
    const seen: string[] = [];
    const result = await inject(
      [
        defineRoutes({ 'http:request': (req) => (seen.push('first'), req.next()) }, 'first'),
        defineRoutes({ 'http:request': () => void seen.push('second') }, 'second'),
        defineRoutes({ 'http:request': async (req) => (seen.push('third'), req.reply(202, 'Accepted', 'text/plain', 'ok')) }, 'third'),
        defineRoutes({ 'http:request': (req) => (seen.push('never'), req.reply(500, 'x')) }, 'fourth'),
      ],
      { headers: { Host: 'h' } },
    );
    expect(seen).toEqual(['first', 'second', 'third']);
    expect(result).toMatchObject({ kind: 'reply', status: 202, reason: 'Accepted', body: 'ok', headers: { 'Content-Type': 'text/plain' } });
  });

  it('answers 404 Not found at the end of the pipeline', async () => {
    const result = await inject(defineRoutes({ 'http:request': (req) => req.next() }), { headers: { Host: 'h' } });
    expect(result).toMatchObject({ kind: 'reply', status: 404, reason: 'Not found' });
  });

  it('carries the reply-close flag', async () => {
    const result = await inject(defineRoutes({ 'http:request': (req) => (req.setReplyClose(), req.reply(403, 'Forbidden')) }), { headers: { Host: 'h' } });
    expect(result).toMatchObject({ kind: 'reply', status: 403, reason: 'Forbidden', close: true });
  });

  it('turns an exception into 500 and logs the route, an HttpError into its status', async () => {
    const logs: LogFields[] = [];
    const logger = createLogger({ level: 'debug', write: (l) => void logs.push(JSON.parse(l)) });
    const boom = await inject(defineRoutes({ 'http:request': async () => { throw new Error('bug'); } }, 'buggy'), { headers: { Host: 'h' }, logger });
    expect(boom).toMatchObject({ kind: 'reply', status: 500 });
    expect(logs[0]).toMatchObject({ level: 50, route: 'buggy', msg: 'route threw; answered 500' });
    const teapot = await inject(defineRoutes({ 'http:request': () => { throw new HttpError(429, 'Slow down', { 'Retry-After': '3' }); } }), { headers: { Host: 'h' } });
    expect(teapot).toMatchObject({ kind: 'reply', status: 429, body: 'Slow down\n', headers: { 'Retry-After': '3' } });
  });

  it('refuses a second action in one route (500, saying which)', async () => {
    const logs: LogFields[] = [];
    const logger = createLogger({ level: 'debug', write: (l) => void logs.push(JSON.parse(l)) });
    const result = await inject(
      defineRoutes({ 'http:request': (req) => { req.next(); return req.next(); } }),
      { headers: { Host: 'h' }, logger },
    );
    expect(result).toMatchObject({ kind: 'reply', status: 500 });
    expect(JSON.stringify(logs)).toContain('req.next() called after req.next()');
  });

  it('refuses a route that returns something other than its action', async () => {
    const result = await inject(defineRoutes({ 'http:request': (() => 42) as never }), { headers: { Host: 'h' } });
    expect(result).toMatchObject({ kind: 'reply', status: 500 });
  });

  it('hands a handshake the route options and reports what it would answer', async () => {
    const routes = defineRoutes({ 'http:request': (req) => req.handshake({ protocols: ['sip'] }) });
    const ok = await inject(routes, { headers: upgradeHeaders });
    expect(ok.kind).toBe('handshake');
    if (ok.kind !== 'handshake') return;
    expect(ok.decision).toMatchObject({ ok: true, protocol: 'sip', accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' });
    const bad = await inject(routes, { headers: { ...upgradeHeaders, 'Sec-WebSocket-Version': '8' } });
    expect(bad.kind === 'handshake' && bad.decision).toMatchObject({ ok: false, status: 426 });
  });

  it('rejects unknown event routes at definition time', () => {
    expect(() => defineRoutes({ 'http:requets': () => undefined } as never)).toThrow(/unknown event route "http:requets"/);
  });
});
