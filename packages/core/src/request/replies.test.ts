/** Repeated reply headers on both carriers (a ServerResponse, and the raw socket of an upgrade request), on real sockets. */
import { afterEach, describe, expect, it } from 'vitest';
import { rawExchange, startTestGateway, upgradeRequest, type TestGateway } from '@wsgate/test-kit';
import { WsgateError } from '../errors.js';
import { inject } from './inject.js';
import { createLogger } from '../observe/logger.js';
import { defineRoutes } from '../script/routes.js';

const CHALLENGES = ['Digest realm="gw", algorithm=SHA-256, qop="auth", nonce="n1"', 'Digest realm="gw", algorithm=MD5, qop="auth", nonce="n1"'];

/** Refuses every request with two WWW-Authenticate challenges and two cookies, by reply() or refuse(). */
const challenge = (how: 'reply' | 'refuse') =>
  defineRoutes({
    'http:request': (req) => {
      const headers = { 'WWW-Authenticate': CHALLENGES, 'Set-Cookie': ['a=1', 'b=2'], 'X-One': 'single' };
      return how === 'reply' ? req.reply(401, 'Unauthorized', 'text/plain', 'who?\n', headers) : req.refuse(401, 'digest', 'no credentials', headers);
    },
  });

/** The header lines of a raw response whose name is `name` (case-insensitive). */
const linesOf = (text: string, name: string) =>
  text
    .slice(0, text.indexOf('\r\n\r\n'))
    .split('\r\n')
    .filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}: `))
    .map((line) => line.slice(name.length + 2));

describe('repeated reply headers', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it.each(['reply', 'refuse'] as const)('req.%s(): one line per value on a plain request (ServerResponse)', async (how) => {
    gw = await startTestGateway(challenge(how));
    const { text } = await rawExchange(gw.port, `GET /xcap HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nConnection: close\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(linesOf(text, 'WWW-Authenticate')).toEqual(CHALLENGES);
    expect(linesOf(text, 'Set-Cookie')).toEqual(['a=1', 'b=2']);
    expect(linesOf(text, 'X-One')).toEqual(['single']);
  });

  it.each(['reply', 'refuse'] as const)('req.%s(): one line per value on an upgrade request (raw socket)', async (how) => {
    gw = await startTestGateway(challenge(how));
    const { text, closed } = await rawExchange(gw.port, upgradeRequest({ host: `127.0.0.1:${gw.port}` }));
    expect(closed).toBe(true);
    expect(text).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\nConnection: close\r\n/);
    expect(linesOf(text, 'WWW-Authenticate')).toEqual(CHALLENGES);
    expect(linesOf(text, 'Set-Cookie')).toEqual(['a=1', 'b=2']);
    expect(linesOf(text, 'X-One')).toEqual(['single']);
  });
});

describe('reply header checks', () => {
  /** What reply() or refuse() threw for `headers`, caught in the route. */
  async function misuse(how: 'reply' | 'refuse', headers: Record<string, unknown>): Promise<WsgateError> {
    let caught: unknown;
    await inject(
      defineRoutes({
        'http:request': (req) => {
          try {
            if (how === 'reply') req.reply(200, 'OK', '', '', headers as never);
            else req.refuse(403, 'test', 'no', headers as never);
          } catch (err) {
            caught = err;
          }
          // The refused call took no action: the route can still answer.
          return req.reply(204, 'No Content');
        },
      }),
      { headers: { Host: 'gw' } },
    );
    expect(caught).toBeInstanceOf(WsgateError);
    expect((caught as WsgateError).code).toBe('WSGATE_API_MISUSE');
    return caught as WsgateError;
  }

  it('refuses CR or LF in a value, naming the header, in a single value and in a list', async () => {
    expect((await misuse('reply', { 'X-Evil': 'a\r\nSet-Cookie: admin=1' })).message).toBe(
      'req.reply(): header X-Evil must not contain CR, LF or other control characters: give each line as its own array element',
    );
    expect((await misuse('refuse', { 'WWW-Authenticate': ['Digest a', 'Digest b\nX: y'] })).message).toMatch(/^req\.refuse\(\): header WWW-Authenticate must not contain CR, LF/);
  });

  it('refuses a header name that is not a token, and a value that is not text', async () => {
    expect((await misuse('reply', { 'X Bad': 'v' })).message).toBe('req.reply(): "X Bad" is not a valid header name: use letters, digits and - only');
    expect((await misuse('refuse', { 'X-Num': 5 })).message).toBe('req.refuse(): header X-Num must be a string or a list of strings, got number');
    expect((await misuse('refuse', { 'X-List': ['a', 5] })).message).toBe('req.refuse(): header X-List must be a string or a list of strings, got a list holding a number');
  });

  it('a route that lets the misuse escape gets a 500 and a log line naming the header', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: 'error', write: (line) => void lines.push(JSON.parse(line)) });
    const result = await inject(defineRoutes({ 'http:request': (req) => req.reply(200, 'OK', '', '', { 'X-Evil': 'a\nb' }) }, 'evil'), {
      headers: { Host: 'gw' },
      logger,
    });
    expect(result).toMatchObject({ kind: 'reply', status: 500 });
    expect(JSON.stringify(lines)).toContain('header X-Evil must not contain CR, LF');
  });
});
