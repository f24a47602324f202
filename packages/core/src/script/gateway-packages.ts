/**
 * The `@wsgate/*` packages a route script imports. A script resolves them as any import, from its own folder,
 * so a project that installs them gets its own. When its folder has none installed (a script next to a
 * config in /etc, a scratch folder), they are the running gateway's own packages: the script then works
 * wherever it is, and it, @wsgate/routes and the gateway share one copy of each class (`instanceof
 * HttpError` in the dispatcher holds for what the script throws).
 *
 * Either way a package is loaded by its file's URL alone: tsx's per-load namespace would otherwise make each
 * script load (and reload) evaluate a second copy of @wsgate/core. ES module imports are steered by a module
 * resolution hook (`module.register`), `require()` (what tsx makes of imports in a CommonJS folder) by
 * wrapping `Module._resolveFilename`. Both must wrap tsx's own hooks, so `useGatewayPackages()` is called
 * after tsx registers for a load: each call adds one pass-through layer, as each tsx registration does.
 */
import { existsSync } from 'node:fs';
import Module, { createRequire, register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The packages a script may import from the gateway (the public ones). */
const PACKAGES = ['@wsgate/handshake', '@wsgate/core', '@wsgate/routes'] as const;

/**
 * Runs in node's module-hooks thread, so it is a string and not this module's code. `packages` maps each
 * name to the gateway's own entry URL. The script's own resolution comes first; a query or hash (tsx's
 * namespace) is dropped, so the package is the one module at its file's URL.
 */
const HOOKS = `
let packages = {};
export function initialize(data) { packages = data.packages; }
export async function resolve(specifier, context, nextResolve) {
  if (!Object.hasOwn(packages, specifier)) return nextResolve(specifier, context);
  let resolved;
  try {
    resolved = await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return { url: packages[specifier], format: 'module', shortCircuit: true };
  }
  const url = new URL(resolved.url);
  if (url.protocol === 'file:') url.search = url.hash = '';
  return { ...resolved, url: url.href, shortCircuit: true };
}
`;

type ResolveFilename = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;
const modules = Module as unknown as { _resolveFilename: ResolveFilename };

let gatewayFiles: Map<string, string> | undefined;

/**
 * Where the gateway's own packages are: the entry file of each that can be found from @wsgate/core's folder
 * (itself, its dependencies, and siblings installed beside it in node_modules/@wsgate), or in the folder
 * beside it that holds that package (the workspace's packages/routes beside packages/core).
 */
export function findGatewayPackages(): ReadonlyMap<string, string> {
  if (gatewayFiles) return gatewayFiles;
  // ../../ from src/script and dist/script alike.
  const coreDir = fileURLToPath(new URL('../../', import.meta.url));
  gatewayFiles = new Map();
  for (const name of PACKAGES) {
    const sibling = path.join(coreDir, '..', name.slice('@wsgate/'.length));
    for (const from of [coreDir, sibling]) {
      try {
        gatewayFiles.set(name, createRequire(path.join(from, 'package.json')).resolve(name));
        break;
      } catch {
        // Not there: the next place, else the script needs the package installed.
      }
    }
  }
  return gatewayFiles;
}

/** Puts the hooks outermost: call it after anything else (tsx) registers module hooks. */
export function useGatewayPackages(): void {
  const files = findGatewayPackages();
  const packages = Object.fromEntries([...files].map(([name, file]) => [name, pathToFileURL(file).href]));
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { packages } });

  const previous = modules._resolveFilename;
  modules._resolveFilename = function resolveFilename(request, parent, isMain, options) {
    const own = files.get(request);
    if (own === undefined) return previous.call(this, request, parent, isMain, options);
    let filename: string;
    try {
      filename = previous.call(this, request, parent, isMain, options);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
      return own;
    }
    // tsx adds "?namespace=…" to the path; without it, require() loads the ES module node already has.
    const query = filename.indexOf('?');
    return query === -1 || existsSync(filename) ? filename : filename.slice(0, query);
  };
}
