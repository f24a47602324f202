/**
 * `wsgate init [DIR]`: a gateway project to start from. package.json depends on @wsgate/core and
 * @wsgate/routes at this gateway's version; tsconfig.json is strict; routes.ts is a typed route script and
 * routes.test.ts drives it through inject() with node's test runner; wsgate.yaml serves metrics and the
 * management API on loopback, behind a token made here. The files come from packages/core/templates/.
 *
 * Nothing is overwritten: when any file it would write exists, it names them and writes none.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const INIT_USAGE = `Usage: wsgate init [DIR]

Makes a gateway project in DIR (default: the current folder; made if missing): package.json, tsconfig.json,
routes.ts, routes.test.ts, wsgate.yaml, management.token, .gitignore, README.md. Refuses, and writes
nothing, when any of them is there already. Then: npm install, npm test, npm start.
`;

// ../../templates from src/process and dist/process alike.
const TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url));

/** Copied as they are; the key is the name in the project, the value the template's. */
const COPIED: Readonly<Record<string, string>> = {
  'tsconfig.json': 'tsconfig.json',
  'routes.ts': 'routes.ts',
  'routes.test.ts': 'routes.test.ts',
  'wsgate.yaml': 'wsgate.yaml',
  // npm leaves a file named .gitignore out of a package: it ships under another name.
  '.gitignore': 'gitignore',
  'README.md': 'README.md',
};
const TOKEN_FILE = 'management.token';
const MADE = ['package.json', TOKEN_FILE];

/** What the generated project builds and tests with; the @wsgate packages follow the running gateway. */
const DEV_DEPENDENCIES = { '@types/node': '^20.19.0', typescript: '^5.9.3' };

/** Runs `wsgate init`; resolves with the exit code after printing what it did, or why it did nothing. */
export async function runInit(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    return refuse(`init: ${(error as Error).message.split('. ')[0]}: run "wsgate init --help"`);
  }
  if (parsed.values.help) {
    process.stdout.write(INIT_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 1) return refuse(`init: too many arguments (${parsed.positionals.join(' ')}): give one folder`);
  const dir = path.resolve(parsed.positionals[0] ?? '.');
  const kind = await stat(dir).then((s) => (s.isDirectory() ? 'folder' : 'other'), () => 'none');
  if (kind === 'other') return refuse(`init: ${dir} is not a folder: give a folder, or a name for a new one`);

  const names = [...Object.keys(COPIED), ...MADE].sort();
  const present = (await Promise.all(names.map(async (name) => ((await exists(path.join(dir, name))) ? name : undefined)))).filter(
    (name): name is string => name !== undefined,
  );
  if (present.length > 0) {
    return refuse(`init: ${dir} has ${present.join(', ')} already: nothing was written; move them away or give another folder`);
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    return refuse(`init: cannot make the folder ${dir} (${(error as NodeJS.ErrnoException).code ?? error}): give a folder you can write to`);
  }

  const core = JSON.parse(await readFile(path.join(TEMPLATES, '../package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
  const manifest = {
    name: packageName(path.basename(dir)),
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=20.19' },
    scripts: {
      start: 'wsgate --config wsgate.yaml',
      check: 'wsgate check --config wsgate.yaml',
      test: 'tsc && node --import tsx --test routes.test.ts',
    },
    dependencies: { '@wsgate/core': `^${core.version}`, '@wsgate/routes': `^${core.version}` },
    // tsx runs the test's TypeScript: the range the gateway itself runs scripts with.
    devDependencies: { ...DEV_DEPENDENCIES, tsx: core.dependencies.tsx ?? '^4.20.0' },
  };
  // COPYFILE_EXCL and flag 'wx': a file that appeared since the check above is still not overwritten.
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
  await writeFile(path.join(dir, TOKEN_FILE), `${randomBytes(24).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  for (const [name, template] of Object.entries(COPIED)) {
    await copyFile(path.join(TEMPLATES, template), path.join(dir, name), constants.COPYFILE_EXCL);
  }
  const shown = path.relative(process.cwd(), dir) || '.';
  process.stdout.write(
    `wsgate: made a gateway project in ${dir}: ${names.join(', ')}\n` +
      `next: ${shown === '.' ? '' : `cd ${shown} && `}npm install && npm test && npm start\n`,
  );
  return 0;
}

/** A folder name as an npm package name: lower case, and only the characters npm allows. */
function packageName(base: string): string {
  const name = base
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '');
  return name.slice(0, 214) || 'wsgate-gateway';
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function refuse(message: string): number {
  process.stderr.write(`wsgate: ${message}\n`);
  return 1;
}
