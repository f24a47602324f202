/**
 * S2, cookie-token variant, end to end in headless Chromium (Debian's `chromium`, driven by playwright-core):
 * the gateway's page sets the AUTH cookie with the source documents' setCookie() and opens a WebSocket, which
 * the gateway relays to a stand-in media server over TLS once the REST hook service has admitted it.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, defineRoutes, Gateway, loadRouteScript, resolveConfig, type LogFields, readConfigFile } from '@wsgate/core';
import { startHookService, startMediaServer, type HookService, type MediaServer } from '../s2-media-basic/media-peers.js';
import s2MediaCookie from './routes.js';
import { PAGE } from './page.js';

const CHROMIUM = '/usr/bin/chromium';
const here = fileURLToPath(new URL('.', import.meta.url));
const TOKEN = 'c2VjcmV0LXRva2VuLWZvci1zMg';
const logs: LogFields[] = [];
/** The AUTH cookie of every upgrade that reached the gateway, in order. */
const cookiesSeen: (string | undefined)[] = [];
let media: MediaServer;
let hook: HookService;
let gateway: Gateway;
let port: number;
let foreign: http.Server;
let foreignPort: number;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const tokens = mkdtempSync(join(tmpdir(), 'wsgate-s2-tokens-'));
  writeFileSync(join(tokens, TOKEN), '');
  [media, hook] = await Promise.all([startMediaServer(), startHookService()]);
  gateway = new Gateway(resolveConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], keepalive: { mechanism: 'none' } }, here), {
    logger: createLogger({ level: 'debug', write: (l) => void logs.push(JSON.parse(l)) }),
  });
  await gateway.listen();
  port = gateway.addresses()[0]!.port;
  gateway.use(defineRoutes({ 'http:request': (req) => void (req.isWebSocketUpgrade && cookiesSeen.push(req.cookie('AUTH'))) }, 'spy'));
  gateway.use(await s2MediaCookie({ gateway, options: { tokens, origins: [`http://127.0.0.1:${port}`], upstream: media.url, hook: hook.url } }));

  // Another origin on the same host: the browser sends the gateway's cookies along (same site, other port).
  foreign = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE));
  await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
  foreignPort = (foreign.address() as AddressInfo).port;

  context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'wsgate-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 60_000);

afterAll(async () => {
  await context?.close();
  foreign?.close();
  await gateway?.close({ grace: 0.2 });
  await Promise.all([media?.close(), hook?.close()]);
});

const connect = (p: Page, url?: string) => p.evaluate((u) => (globalThis as unknown as { connect(u?: string): Promise<string> }).connect(u), url);
const setCookie = (p: Page, value: string) => p.evaluate((v) => (globalThis as unknown as { setCookie(n: string, v: string, d: number): void }).setCookie('AUTH', v, 1), value);

describe('S2 with a cookie token, in Chromium', () => {
  it('opens the WebSocket to the media server once the page has set a token that exists and the hook admits it', async () => {
    await page.goto(`http://127.0.0.1:${port}/`);
    await setCookie(page, TOKEN);
    const answer = await connect(page);
    expect(answer).toMatch(/^open: hello from the media server, client 127\.0\.0\.1:\d+$/);
    // The media server was told the browser's address and port — the session the hook was asked about — and
    // got the cookie, to check for itself.
    const client = answer.split('client ')[1];
    expect(media.requests.at(-1)!.headers).toMatchObject({ 'x-client-ip': client, cookie: `AUTH=${TOKEN}` });
    expect(hook.sessions.at(-1)).toMatchObject({ session: client, path: '/ws', origin: `http://127.0.0.1:${port}`, userAgent: expect.stringContaining('Chrome'), cookies: ['AUTH'] });
  });

  it('fails with an unknown token, refused by cookie-token before the hook is asked', async () => {
    await page.goto(`http://127.0.0.1:${port}/`);
    await setCookie(page, 'bm90LWEtdmFsaWQtdG9rZW4');
    const calls = hook.sessions.length;
    expect(await connect(page)).toBe('failed: 1006');
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'request refused', by: 'cookie-token', status: 403 }));
    expect(hook.sessions.length).toBe(calls);
    await setCookie(page, TOKEN);
  });

  it('fails when the REST hook refuses the session, and the media server never sees it', async () => {
    await page.goto(`http://127.0.0.1:${port}/`);
    hook.decide = () => 403;
    try {
      const before = media.requests.length;
      expect(await connect(page)).toBe('failed: 1006');
      expect(media.requests.length).toBe(before);
      expect(logs).toContainEqual(expect.objectContaining({ msg: 'request refused', by: 'auth-hook', status: 403 }));
    } finally {
      hook.decide = () => 200;
    }
  });

  it('fails from a page on a foreign origin, although the browser sends the valid cookie', async () => {
    const foreignPage = await context.newPage();
    await foreignPage.goto(`http://127.0.0.1:${foreignPort}/`);
    const before = cookiesSeen.length;
    expect(await connect(foreignPage, `ws://127.0.0.1:${port}/ws`)).toBe('failed: 1006');
    expect(cookiesSeen.slice(before)).toEqual([TOKEN]);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'request refused', by: 'origin', reason: `Origin "http://127.0.0.1:${foreignPort}" not allowed` }));
    await foreignPage.close();
  });
});

describe('the example as configured', () => {
  it('loads from its wsgate.yaml (route script, options, token folder)', async () => {
    const file = await readConfigFile(join(here, 'wsgate.yaml'));
    const config = resolveConfig(file, here);
    const other = new Gateway(config, { logger: createLogger({ level: 'silent' }) });
    const [routes] = await loadRouteScript(config.script!, other);
    expect(routes!.name).toBe('s2-media-cookie');
    await routes!.handlers['routes:close']!('shutdown', 0);
  });
});
