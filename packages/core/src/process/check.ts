/**
 * `wsgate check` (also `wsgate -t`, as `nginx -t`): would this start? The config has been loaded by the
 * command exactly as a start loads it (same flags, same errors, cli.ts). Here: the files a start reads
 * (certificates, the management token), the Redis of `store.redis` reached, the route script imported and
 * its default export checked, and the script type-checked when its project has TypeScript (typecheck.ts).
 * Opens no port: no listener, no metrics or management server, and a factory default export is not called,
 * since a factory may bind ports of its own (`streamRelay().listen()`) and clash with the gateway it is
 * checking for.
 *
 * Output: what is fine on stdout; each problem on stderr, as `wsgate: ...`, or `file:line:col: error TS...`
 * for a type error. The exit code is 0 or 1.
 */
import path from 'node:path';
import type { GatewayConfig } from '../config/types.js';
import { WsgateError } from '../errors.js';
import { resolveTlsCredentials } from '../ingress/tls/credentials.js';
import { checkAccessLogPath } from '../observe/access-log.js';
import { checkLogSettings } from '../observe/logger.js';
import { managementToken } from '../management/operations.js';
import { checkStoreReachable } from '../store/configured-store.js';
import { importRouteScript } from '../script/script-loader.js';
import { typeCheckScript } from './typecheck.js';

/** How long the script's import may take: its top-level code runs, and may wait on something that never comes. */
export const IMPORT_TIMEOUT_MS = 30_000;

/** Checks a loaded config and its script; resolves with the exit code once everything is printed. */
export async function runCheck(config: GatewayConfig, configFile: string | undefined): Promise<number> {
  const problems: string[] = [];
  const problem = (error: unknown) => {
    if (!(error instanceof WsgateError)) throw error;
    problems.push(`wsgate: ${error.message.replace(/\s*\n\s*/g, ' ')}`);
  };

  // The files a start reads after validation. A self-signed certificate is made at start: nothing to read yet.
  for (const listener of config.listeners) {
    if (listener.tls && (listener.tls.cert !== undefined || listener.tls.key !== undefined)) {
      await resolveTlsCredentials(listener, config).catch(problem);
    }
  }
  // A token the gateway makes in dataDir (no token or tokenFile given) is checked only once it exists.
  if (config.management) await managementToken(config, 'check').catch(problem);
  if (config.accessLog) await checkAccessLogPath(config.accessLog.path).catch(problem);
  await checkLogSettings(config.log).catch(problem);
  const source = configFile === undefined ? 'given on the command line' : path.resolve(configFile);
  if (problems.length === 0) say(`config ${source} ok`);
  // A start connects to Redis (store.redis) before it listens: would it reach it?
  if (config.store) await checkStoreReachable(config.store).then(say, problem);

  if (!config.script) say('no route script: every request would be answered 404 Not found');
  else await checkScript(config.script.path, problems, problem);

  for (const line of problems) process.stderr.write(`${line}\n`);
  return problems.length === 0 ? 0 : 1;
}

async function checkScript(file: string, problems: string[], problem: (error: unknown) => void): Promise<void> {
  let loaded: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const s = IMPORT_TIMEOUT_MS / 1000;
      reject(new WsgateError('WSGATE_SCRIPT_INVALID', `route script ${file} did not finish loading within ${s} s: its top-level code waits on something; move that into a factory`));
    }, IMPORT_TIMEOUT_MS);
  });
  try {
    const { factory } = await Promise.race([importRouteScript({ path: file, options: {} }), timeout]);
    loaded = factory ? 'loaded (a factory: not called here, it runs at start)' : 'loaded';
  } catch (error) {
    problem(error);
  } finally {
    clearTimeout(timer);
  }

  if (!/\.[cm]?ts$/i.test(file)) {
    if (loaded) say(`route script ${file} ok: ${loaded}; JavaScript, not type-checked`);
    return;
  }
  const typed = typeCheckScript(file);
  if (!typed.checked) {
    if (loaded) say(`route script ${file} ok: ${loaded}; not type-checked: ${typed.why}`);
    return;
  }
  const by = `TypeScript ${typed.version}${typed.tsconfig ? ` with ${typed.tsconfig}` : ' with strict defaults (no tsconfig.json)'}`;
  if (typed.count === 0) {
    if (loaded) say(`route script ${file} ok: ${loaded}; type-checked by ${by}`);
    return;
  }
  problems.push(...typed.errors);
  const more = typed.count > typed.errors.length ? ` (the first ${typed.errors.length} shown)` : '';
  problems.push(`wsgate: route script ${file}: ${typed.count} type error${typed.count === 1 ? '' : 's'}${more}, found by ${by}: fix the script`);
}

function say(line: string): void {
  process.stdout.write(`wsgate: ${line}\n`);
}
