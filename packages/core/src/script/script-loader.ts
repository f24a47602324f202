/**
 * Loads the route script named in the config: TypeScript through tsx (no build step for script authors),
 * JavaScript through import(). Whatever goes wrong becomes a start-up error that says which file, where
 * in it, and what to do (docs/design.md convention 3).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ScriptConfig } from '../config/types.js';
import { WsgateError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { useGatewayPackages } from './gateway-packages.js';
import { defineRoutes, isRoutes, type Routes } from './routes.js';

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);
const JAVASCRIPT = new Set(['.js', '.mjs', '.cjs']);
const EXPECTED = 'export default defineRoutes({...}) (or a list of them, mounted in order), or a function returning that';

/**
 * Imports a route script and returns its routes, named after the file for logs.
 * The default export is either `defineRoutes({...})` or a factory `({ gateway, options }) => Routes`,
 * called once with `script.options`.
 * @throws {WsgateError} `WSGATE_SCRIPT_UNREADABLE` when the file cannot be read; `WSGATE_SCRIPT_INVALID`
 *   for a syntax error, an exception while importing or in the factory (with its location), or a default
 *   export that is not routes.
 */
export async function loadRouteScript(script: ScriptConfig, gateway: Gateway): Promise<Routes<any>[]> {
  const { file, extension, exported } = await importRouteScript(script);

  let routes: unknown = exported;
  if (typeof exported === 'function' && !isRoutes(exported)) {
    try {
      routes = await (exported as (context: object) => unknown)({ gateway, options: script.options });
    } catch (error) {
      throw await loadFailure(file, extension, 'failed in its factory', error);
    }
    if (!isRouteSets(routes)) {
      throw new WsgateError(
        'WSGATE_SCRIPT_INVALID',
        `route script ${file}: its factory returned ${kindOf(routes)}: make it return defineRoutes({...}) or a list of them`,
      );
    }
  }
  if (!isRouteSets(routes)) throw notRoutes(file, exported);
  // Logs say which mounted routes threw: the file name says more than defineRoutes' default "routes".
  const named = (r: Routes<any>) => (r.name === 'routes' ? defineRoutes(r.handlers, path.basename(file)) : r);
  return Array.isArray(routes) ? routes.map(named) : [named(routes as Routes<any>)];
}

/**
 * The first half of {@link loadRouteScript}: imports the script and checks its default export, but does not
 * call a factory (`wsgate check`, which opens no port: a factory may bind one, as `streamRelay().listen()`).
 * @throws {WsgateError} as loadRouteScript does, but for what only the factory can tell.
 */
export async function importRouteScript(script: ScriptConfig): Promise<{ file: string; extension: string; exported: unknown; factory: boolean }> {
  const file = path.resolve(script.path);
  await checkReadable(file);
  const extension = path.extname(file).toLowerCase();
  if (!TYPESCRIPT.has(extension) && !JAVASCRIPT.has(extension)) {
    throw new WsgateError(
      'WSGATE_SCRIPT_INVALID',
      `route script ${file}: unknown kind of file "${extension}": give a .ts, .mts, .cts, .js, .mjs or .cjs file`,
    );
  }

  let module: { default?: unknown };
  try {
    module = await importScript(file, extension);
  } catch (error) {
    throw await loadFailure(file, extension, 'failed to load', error);
  }

  let exported = module.default;
  // A CommonJS script compiled from `export default` arrives wrapped once more.
  if (isWrappedDefault(exported)) exported = exported.default;
  const factory = typeof exported === 'function' && !isRoutes(exported);
  if (!factory && !isRouteSets(exported)) throw notRoutes(file, exported);
  return { file, extension, exported, factory };
}

function notRoutes(file: string, exported: unknown): WsgateError {
  const what = exported === undefined ? 'has no default export' : `exports ${kindOf(exported)} as default`;
  return new WsgateError('WSGATE_SCRIPT_INVALID', `route script ${file} ${what}: write ${EXPECTED}`);
}

/** One route set, or a non-empty list of them mounted in order (a Kamailio route, then XCAP after it). */
function isRouteSets(value: unknown): value is Routes<any> | Routes<any>[] {
  return isRoutes(value) || (Array.isArray(value) && value.length > 0 && value.every(isRoutes));
}

async function checkReadable(file: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new WsgateError('WSGATE_SCRIPT_UNREADABLE', `cannot read route script ${file} (${code}): check script.path in the config, or --script`, {
      cause: error,
    });
  }
  if (!isFile) {
    throw new WsgateError('WSGATE_SCRIPT_UNREADABLE', `cannot read route script ${file}: it is not a file: give the path of a .ts or .js file`);
  }
}

/** Counts loads, so a reload gets the script as it is now rather than the module cache's copy. */
let loads = 0;

async function importScript(file: string, extension: string): Promise<{ default?: unknown }> {
  const url = pathToFileURL(file).href;
  if (TYPESCRIPT.has(extension)) {
    // Loaded only when a TypeScript script is, and scoped: tsx's hooks apply to this import, not process-wide.
    // Each load has a namespace of its own, so its module cache starts empty: a reload sees new code. This is
    // tsx's tsImport() with the gateway's package hooks put around tsx's (gateway-packages.ts).
    const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
    const namespace = randomUUID();
    cjs.register({ namespace });
    const scoped = esm.register({ namespace });
    useGatewayPackages();
    return (await scoped.import(url, import.meta.url)) as { default?: unknown };
  }
  if (loads === 0) useGatewayPackages();
  loads += 1;
  return (await import(loads === 1 ? url : `${url}?reload=${loads}`)) as { default?: unknown };
}

/** A WSGATE_SCRIPT_INVALID naming the cause's first line and, when it can be found, its file:line:column. */
async function loadFailure(file: string, extension: string, what: string, error: unknown): Promise<WsgateError> {
  const { summary, location } = await describeFailure(file, extension, error);
  const at = location ? ` at ${location}` : '';
  // ERR_MODULE_NOT_FOUND from import, MODULE_NOT_FOUND from require() (tsx's CommonJS).
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    return new WsgateError('WSGATE_SCRIPT_INVALID', `route script ${file} ${what}: ${summary}: install the package or fix the import`, { cause: error });
  }
  return new WsgateError('WSGATE_SCRIPT_INVALID', `route script ${file} ${what}: ${summary}${at}: fix the script`, { cause: error });
}

async function describeFailure(file: string, extension: string, error: unknown): Promise<{ summary: string; location?: string }> {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const lines = message.split('\n');

  // tsx (esbuild): "Transform failed with 1 error:\n/x/r.ts:2:18: ERROR: Unexpected \";\""
  const esbuild = /^(.+?):(\d+):(\d+): ERROR: (.*)$/.exec(lines[1] ?? '');
  if (lines[0]?.startsWith('Transform failed') && esbuild) {
    // esbuild counts columns from 0, V8 and editors from 1.
    return { summary: `SyntaxError: ${esbuild[4]}`, location: `${esbuild[1]}:${esbuild[2]}:${Number(esbuild[3]) + 1}` };
  }
  const summary = `${name}: ${lines[0]!.trim()}`;
  const location = locationInStack(file, error);
  if (location) return { summary, location };
  // No location: for JavaScript that is how Node reports an ES module's syntax error. Ask `node --check`.
  if (JAVASCRIPT.has(extension)) {
    const checked = await checkSyntax(file);
    if (checked) return checked;
  }
  return { summary };
}

/** The first frame of the stack in the script itself, else in any file outside node_modules and Node's own. */
function locationInStack(file: string, error: unknown): string | undefined {
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  // "at f (/x/r.ts:3:7)", "at file:///x/r.mjs:2:7", or a CommonJS syntax error's first line "/x/r.cjs:2".
  // tsx may add a "?tsx-namespace=..." query to the file's URL: not part of the path.
  const frames = [...stack.matchAll(/(?:^|[\s(])(?:file:\/\/)?(\/[^\s():?]+)(?:\?[^\s():]*)?:(\d+)(?::(\d+))?/gm)].map((m) => ({
    file: decodeURIComponent(m[1]!),
    at: m[3] ? `${m[2]}:${m[3]}` : m[2]!,
  }));
  const frame = frames.find((f) => f.file === file) ?? frames.find((f) => !f.file.includes('/node_modules/'));
  return frame ? `${frame.file}:${frame.at}` : undefined;
}

/**
 * `node --check`: parses the file without running it and prints where the syntax error is, which an ES
 * module's SyntaxError does not carry. Only ever spawned on a failure path.
 */
function checkSyntax(file: string): Promise<{ summary: string; location: string } | undefined> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--check', file], { timeout: 10_000 }, (error, _stdout, stderr) => {
      if (!error) return resolve(undefined);
      // "/x/bad.mjs:3\nexport default {ok, ;\n                    ^\n\nSyntaxError: Unexpected token ';'\n    at ..."
      const lines = String(stderr).split('\n');
      const line = /:(\d+)$/.exec(lines[0] ?? '')?.[1];
      const summary = lines.find((l) => /^\w*Error: /.test(l));
      if (!line || !summary) return resolve(undefined);
      const column = lines[2]?.indexOf('^') ?? -1;
      resolve({ summary: summary.trim(), location: column >= 0 ? `${file}:${line}:${column + 1}` : `${file}:${line}` });
    });
  });
}

function isWrappedDefault(value: unknown): value is { default: unknown } {
  return typeof value === 'object' && value !== null && !isRoutes(value) && (value as { __esModule?: unknown }).__esModule === true && 'default' in value;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'a plain object (not made by defineRoutes)';
  if (typeof value === 'function') return 'a function';
  return `a ${typeof value} (${JSON.stringify(value)})`;
}
