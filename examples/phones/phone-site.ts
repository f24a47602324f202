/**
 * The web site the browser phones load in the end-to-end tests: an HTTP server on 127.0.0.1 with one page per
 * SIP library (`/jssip`, `/sipjs`) and its script, bundled once at start by esbuild from the page code in
 * browser/ and the libraries as npm ships them.
 *
 * Why a bundler: JsSIP 3.13 ships only CommonJS (lib/JsSIP.js) that requires `debug`, `events` and
 * `sdp-transform` by bare name, which no browser loads; SIP.js 0.21 ships browser-ready ES modules (193 files),
 * which a page could import as they are, but bundling both the same way keeps one path and one request per
 * page. The library code is not changed: esbuild only joins the modules.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The SIP libraries a page can be built on. */
export type PhoneLibrary = 'jssip' | 'sipjs';
const LIBRARIES: readonly PhoneLibrary[] = ['jssip', 'sipjs'];

export interface PhoneSite {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The page of a phone on `library` that connects to the gateway at `wsUrl` (`ws://…`). */
  pageUrl(library: PhoneLibrary, wsUrl: string): string;
  close(): Promise<void>;
}

// The page code is read from the sources (tests run them): compiled into dist/, this module finds it there too.
const browserDir = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../phones/browser/' : './browser/', import.meta.url));

const page = (library: PhoneLibrary) => `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>wsgate — ${library} phone</title>
<script type="module" src="/${library}.js"></script>
<p>A ${library} phone: the test drives <code>window.phone</code>.</p>
`;

/** Bundles the phone pages and serves them on 127.0.0.1 (an ephemeral port). */
export async function startPhoneSite(): Promise<PhoneSite> {
  const result = await build({
    entryPoints: Object.fromEntries(LIBRARIES.map((l) => [l, `${browserDir}${l}-phone.js`])),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    outdir: '/phones',
    logLevel: 'silent',
  });
  const scripts = new Map(result.outputFiles.map((f) => [f.path.slice('/phones'.length), f.text]));
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const library = LIBRARIES.find((l) => path === `/${l}`);
    if (library !== undefined) return void res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page(library));
    const script = scripts.get(path);
    if (script !== undefined) return void res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(script);
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`no ${path} here: /jssip or /sipjs`);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    pageUrl: (library, wsUrl) => `${url}/${library}?ws=${encodeURIComponent(wsUrl)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
