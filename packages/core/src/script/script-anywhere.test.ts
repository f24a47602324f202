/**
 * Route scripts in any folder, through the built `wsgate` command (tsc -b first): a script's `@wsgate/*`
 * imports are the running gateway's own packages when its folder has none installed (one copy of the
 * classes: the gateway, the script and @wsgate/routes agree on `instanceof`), and the project's own when it has them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startWsgate, until, type WsgateProcess } from '@wsgate/test-kit';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const builtCore = pathToFileURL(fileURLToPath(new URL('../../dist/index.js', import.meta.url))).href;

/**
 * Valid TypeScript and JavaScript alike. It answers with what it found: whether the gateway it was given is an
 * instance of the Gateway it imported, whether @wsgate/routes throws the WsgateError it imported, which copy of
 * @wsgate/core it got; and it throws an HttpError, which the gateway turns into its status only if it is the gateway's class.
 */
const script = (helper: string) => `import { Gateway, HttpError, WsgateError, defineRoutes } from '@wsgate/core';
import * as core from '@wsgate/core';
import { upstream } from '@wsgate/routes';
import { greeting } from '${helper}';

export default ({ gateway }) => {
  let routes = 'nothing thrown';
  try {
    upstream('gopher://example.com');
  } catch (error) {
    routes = error instanceof WsgateError ? 'WsgateError' : 'another WsgateError class: ' + String(error);
  }
  const facts = { gateway: gateway instanceof Gateway, routes, copy: core.projectCopy ?? 'gateway', greeting };
  return defineRoutes({
    'http:request'(req) {
      if (req.path === '/teapot') throw new HttpError(418, 'short and stout');
      return req.reply(200, 'OK', 'application/json', JSON.stringify(facts));
    },
  });
};
`;

const ONE_COPY = { gateway: true, routes: 'WsgateError', copy: 'gateway' };

const dirs: string[] = [];
const running: WsgateProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder outside the repository, nothing installed: `files` written into it. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wsgate-anywhere-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

async function start(args: string[], cwd?: string): Promise<WsgateProcess> {
  const wsgate = await startWsgate(process.execPath, [cli, ...args], cwd ? { cwd } : {});
  running.push(wsgate);
  return wsgate;
}

async function reload(wsgate: WsgateProcess): Promise<void> {
  const before = wsgate.lines().filter((l) => l.msg === 'reloaded').length;
  wsgate.child.kill('SIGHUP');
  await until(() => wsgate.lines().filter((l) => l.msg === 'reloaded').length > before, 10_000, `reload, got ${JSON.stringify(wsgate.output)}`);
}

async function facts(port: number): Promise<Record<string, unknown>> {
  const response = await fetch(`http://127.0.0.1:${port}/`);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function teapot(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/teapot`)).status;
}

describe('route scripts anywhere', () => {
  it("a TypeScript script in a folder with nothing installed gets the gateway's own @wsgate/core and @wsgate/routes, before and after a reload", async () => {
    // No package.json: a CommonJS folder, where tsx turns the imports into require() calls.
    const dir = folder({ 'routes.ts': script('./greeting.js'), 'greeting.ts': "export const greeting: string = 'hello';\n" });
    const port = await freePort();
    const wsgate = await start([path.join(dir, 'routes.ts'), '--listen', `127.0.0.1:${port}`]);
    expect(await facts(port)).toEqual({ ...ONE_COPY, greeting: 'hello' });
    expect(await teapot(port)).toBe(418);

    // A reload loads the script afresh, and still hands it the gateway's classes.
    writeFileSync(path.join(dir, 'routes.ts'), script('./other.js'));
    writeFileSync(path.join(dir, 'other.ts'), "export const greeting: string = 'hello again';\n");
    await reload(wsgate);
    expect(await facts(port)).toEqual({ ...ONE_COPY, greeting: 'hello again' });
    expect(await teapot(port)).toBe(418);
  });

  it('--config ./wsgate.yaml, run from an ES module project folder with nothing installed; a reload reads its files afresh', async () => {
    const port = await freePort();
    const dir = folder({
      'package.json': '{ "name": "my-gateway", "private": true, "type": "module" }\n',
      'wsgate.yaml': `listeners:\n  - { host: 127.0.0.1, port: ${port} }\nscript: { path: ./routes.ts }\n`,
      'routes.ts': script('./greeting.ts'),
      'greeting.ts': "export const greeting: string = 'hello';\n",
    });
    const wsgate = await start(['--config', './wsgate.yaml'], dir);
    expect(await facts(port)).toEqual({ ...ONE_COPY, greeting: 'hello' });
    expect(await teapot(port)).toBe(418);

    writeFileSync(path.join(dir, 'greeting.ts'), "export const greeting: string = 'hello again';\n");
    await reload(wsgate);
    expect(await facts(port)).toEqual({ ...ONE_COPY, greeting: 'hello again' });
    expect(await teapot(port)).toBe(418);
  });

  it('a JavaScript (.mjs) script in a folder with nothing installed', async () => {
    const dir = folder({ 'routes.mjs': script('./greeting.mjs'), 'greeting.mjs': "export const greeting = 'hello';\n" });
    const port = await freePort();
    await start([path.join(dir, 'routes.mjs'), '--listen', `127.0.0.1:${port}`]);
    expect(await facts(port)).toEqual({ ...ONE_COPY, greeting: 'hello' });
    expect(await teapot(port)).toBe(418);
  });

  it("the project's own @wsgate/core when the script's folder has one installed", async () => {
    // The project's copy: the gateway's classes (a real install would have its own) and a mark to tell it by.
    const dir = folder({
      'node_modules/@wsgate/core/package.json': JSON.stringify({ name: '@wsgate/core', version: '0.0.0-project', type: 'module', exports: './index.js' }),
      'node_modules/@wsgate/core/index.js': `export * from ${JSON.stringify(builtCore)};\nexport const projectCopy = 'project';\n`,
      'routes.ts': script('./greeting.js'),
      'greeting.ts': "export const greeting: string = 'hello';\n",
    });
    const port = await freePort();
    await start([path.join(dir, 'routes.ts'), '--listen', `127.0.0.1:${port}`]);
    expect(await facts(port)).toEqual({ ...ONE_COPY, copy: 'project', greeting: 'hello' });
  });
});
