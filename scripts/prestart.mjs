// `npm start`'s first steps, said as they run (a first start is otherwise a minute of silence): the workspace
// install, then the build. The `start` script then runs the sample gateway, which says the rest (a
// self-signed certificate on the first start, its listeners, metrics and management API).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = (file) => existsSync(new URL(`../${file}`, import.meta.url));

/** Runs one step; a quiet one's output is shown only when it fails. */
function step(say, command, args, quiet = false) {
  process.stdout.write(`wsgate: ${say}\n`);
  const started = Date.now();
  const run = spawnSync(command, args, { cwd: root, stdio: quiet ? ['inherit', 'pipe', 'pipe'] : 'inherit', maxBuffer: 64 << 20 });
  if (run.status !== 0) {
    if (quiet) process.stderr.write(`${run.stdout ?? ''}${run.stderr ?? ''}`);
    process.stderr.write(`wsgate: ${command} ${args.join(' ')} failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`}): see above\n`);
    process.exit(run.status || 1);
  }
  return ((Date.now() - started) / 1000).toFixed(1);
}

const installed = at('node_modules/.modules.yaml');
const installing = installed ? 'checking the workspace install (pnpm)…' : 'installing the workspace with pnpm (first run: about a minute)…';
const pnpm = step(installing, 'npx', ['--yes', 'pnpm@10.34.9', 'install', '--frozen-lockfile'], true);
const built = at('packages/core/dist/cli.js');
const building = built ? 'building what changed (tsc -b)…' : 'building the packages (tsc -b; first run: about half a minute)…';
const tsc = step(building, process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-b']);
process.stdout.write(`wsgate: ready (install ${pnpm} s, build ${tsc} s); starting the sample gateway, examples/sample/wsgate.yaml (Ctrl-C stops it)\n`);
