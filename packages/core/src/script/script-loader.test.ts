import { describe, expect, it } from 'vitest';
import { fixturePath } from '@wsgate/test-kit';
import { WsgateError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { isRoutes } from './routes.js';
import { loadRouteScript } from './script-loader.js';

// The loader only hands the gateway to factories; a marker object shows it arrived.
const gateway = { marker: 'the-gateway' } as unknown as Gateway;
const load = (name: string, options: Record<string, unknown> = {}) => loadRouteScript({ path: fixturePath(name), options }, gateway).then((sets) => sets[0]!);

async function failure(name: string, options?: Record<string, unknown>): Promise<WsgateError> {
  const error = await load(name, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WsgateError);
  return error as WsgateError;
}

describe('loadRouteScript', () => {
  it('loads a TypeScript script that imports the core sources, named after its file', async () => {
    const routes = await load('test-routes.ts');
    expect(isRoutes(routes)).toBe(true);
    expect(routes.name).toBe('test-routes.ts');
    expect(typeof routes.handlers['http:request']).toBe('function');
  });

  it('calls a factory once with the gateway and script.options', async () => {
    const routes = await load('test-factory.ts', { greeting: 'hi' });
    expect(routes.name).toBe('factory(the-gateway, hi)');
  });

  it('loads a JavaScript (.mjs) script through import()', async () => {
    const routes = await load('test-routes.mjs');
    expect(isRoutes(routes)).toBe(true);
    expect(routes.name).toBe('test-routes.mjs');
  });

  it('reports a missing file as WSGATE_SCRIPT_UNREADABLE, naming the path', async () => {
    const error = await failure('no-such-script.ts');
    expect(error.code).toBe('WSGATE_SCRIPT_UNREADABLE');
    expect(error.message).toContain(fixturePath('no-such-script.ts'));
    expect(error.message).toContain('ENOENT');
  });

  it('reports a folder as unreadable', async () => {
    const error = await loadRouteScript({ path: fixturePath(''), options: {} }, gateway).catch((e: WsgateError) => e);
    expect(error).toMatchObject({ code: 'WSGATE_SCRIPT_UNREADABLE' });
    expect((error as Error).message).toContain('not a file');
  });

  it('reports a TypeScript syntax error with its line and column', async () => {
    const error = await failure('test-syntax-error.ts');
    expect(error.code).toBe('WSGATE_SCRIPT_INVALID');
    expect(error.message).toContain(`${fixturePath('test-syntax-error.ts')}:3:24`);
    expect(error.message).toMatch(/SyntaxError: .*Unexpected/);
    expect(error.message).not.toContain('\n');
  });

  it('reports a JavaScript syntax error with its line (which Node leaves out for ES modules)', async () => {
    const error = await failure('test-syntax-error.mjs');
    expect(error.code).toBe('WSGATE_SCRIPT_INVALID');
    expect(error.message).toContain(`${fixturePath('test-syntax-error.mjs')}:3:21`);
    expect(error.message).toContain('SyntaxError');
  });

  it('reports an exception while importing with the first line of the cause and where it was thrown', async () => {
    const ts = await failure('test-throws.ts');
    expect(ts.code).toBe('WSGATE_SCRIPT_INVALID');
    expect(ts.message).toContain('Error: no port in the table');
    // The exact line is checked in cli.test.ts: under vitest, its own stack formatting hides tsx's source maps.
    expect(ts.message).toMatch(new RegExp(`at ${fixturePath('test-throws.ts')}:\\d+:\\d+: fix the script$`));

    const js = await failure('test-throws.mjs');
    expect(js.message).toContain('TypeError: not ready');
    expect(js.message).toContain(`${fixturePath('test-throws.mjs')}:2:`);
  });

  it("passes on defineRoutes' own complaint about an unknown event route", async () => {
    const error = await failure('test-unknown-route.ts');
    expect(error.code).toBe('WSGATE_SCRIPT_INVALID');
    expect(error.message).toContain('unknown event route "http:reqest"');
  });

  it('reports an import that cannot be resolved', async () => {
    const error = await failure('test-missing-import.ts');
    expect(error.code).toBe('WSGATE_SCRIPT_INVALID');
    expect(error.message).toContain("'wsgate-no-such-package'");
    expect(error.message).toContain('fix the import');
  });

  it.each([
    ['test-plain-object.ts', 'a plain object'],
    ['test-no-default.ts', 'has no default export'],
    ['test-factory-wrong.ts', 'returned a plain object'],
  ])('refuses %s: the default export is not routes', async (name, what) => {
    const error = await failure(name);
    expect(error.code).toBe('WSGATE_SCRIPT_INVALID');
    expect(error.message).toContain(what);
    expect(error.message).toContain('defineRoutes({...})');
  });

  it('reports a factory that throws', async () => {
    const error = await failure('test-factory-throws.ts');
    expect(error.code).toBe('WSGATE_SCRIPT_INVALID');
    expect(error.message).toContain('failed in its factory: Error: options.secret is required');
    expect(error.message).toContain(fixturePath('test-factory-throws.ts'));
  });

  it('refuses a file that is not a script', async () => {
    const error = await failure('cli-ok.yaml');
    expect(error.code).toBe('WSGATE_SCRIPT_INVALID');
    expect(error.message).toContain('give a .ts, .mts, .cts, .js, .mjs or .cjs file');
  });
});
