/**
 * Type-checks a route script with the TypeScript compiler of the script's own project, for `wsgate check`.
 * The gateway runs scripts through tsx, which strips types without checking them, so a type error loads
 * without complaint; this is where it is caught. The compiler is the one `require('typescript')` finds from
 * the script's folder (the gateway ships none), with the tsconfig.json found from there upwards, or strict
 * defaults. The script is the root; what it imports is checked with it.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

/** Diagnostics printed; past it, a count of the rest (a script that does not parse yields hundreds). */
export const MAX_SHOWN = 50;

/** Without a tsconfig.json: strict, and modules resolved as node resolves them. */
const DEFAULT_OPTIONS = { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: true };
/** Options that would make a program write files, or need a build's bookkeeping; a check writes nothing. */
const NO_OUTPUT = { noEmit: true, composite: false, incremental: false, declaration: false, declarationMap: false, emitDeclarationOnly: false, tsBuildInfoFile: undefined };
/** "No inputs were found in config file": the check gives its own root, the script. */
const NO_INPUTS = 18003;

export type TypeCheck =
  | { readonly checked: false; readonly why: string }
  | {
      readonly checked: true;
      readonly version: string;
      /** The tsconfig.json used, or undefined for the strict defaults. */
      readonly tsconfig: string | undefined;
      /** `file:line:col: error TS2322: message`, one line each, at most MAX_SHOWN. */
      readonly errors: readonly string[];
      /** All errors, shown or not. */
      readonly count: number;
    };

/** Type-checks `file` (absolute); synchronous inside, as the compiler is. */
export function typeCheckScript(file: string): TypeCheck {
  const dir = path.dirname(file);
  let ts: TypeScriptApi;
  let where: string;
  try {
    const require = createRequire(path.join(dir, 'wsgate-check.js'));
    where = require.resolve('typescript');
    ts = require(where) as TypeScriptApi;
  } catch {
    return { checked: false, why: 'no typescript package installed in its project' };
  }
  if (typeof ts.createProgram !== 'function' || typeof ts.parseJsonConfigFileContent !== 'function') {
    return { checked: false, why: `typescript ${ts.version ?? '?'} at ${where} has no compiler API this check can use` };
  }

  const tsconfig = ts.findConfigFile(dir, ts.sys.fileExists);
  let json: unknown = { compilerOptions: DEFAULT_OPTIONS };
  if (tsconfig) {
    const read = ts.readConfigFile(tsconfig, ts.sys.readFile);
    if (read.error) return result(ts, tsconfig, [read.error]);
    json = read.config;
  }
  const parsed = ts.parseJsonConfigFileContent(json, ts.sys, tsconfig ? path.dirname(tsconfig) : dir, undefined, tsconfig);
  const problems = parsed.errors.filter((d) => d.code !== NO_INPUTS);
  if (problems.length > 0) return result(ts, tsconfig, problems);
  // Declaration files the project lists (global types the script may rely on) are roots too.
  const roots = [file, ...parsed.fileNames.filter((f) => /\.d\.[cm]?ts$/.test(f))];
  const program = ts.createProgram(roots, { ...parsed.options, ...NO_OUTPUT });
  return result(ts, tsconfig, ts.getPreEmitDiagnostics(program));
}

function result(ts: TypeScriptApi, tsconfig: string | undefined, diagnostics: readonly Diagnostic[]): TypeCheck {
  const errors = diagnostics.filter((d) => d.category === ERROR);
  return { checked: true, version: ts.version, tsconfig, errors: errors.slice(0, MAX_SHOWN).map((d) => format(ts, d)), count: errors.length };
}

/** `file:line:col: error TSnnnn: message` (line and column from 1, as editors and tsc --pretty false count). */
function format(ts: TypeScriptApi, d: Diagnostic): string {
  // A chained message comes indented, one line per link: one line here.
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n').replace(/\s*\n\s*/g, ' ');
  if (!d.file || d.start === undefined) return `error TS${d.code}: ${message}`;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  return `${path.normalize(d.file.fileName)}:${line + 1}:${character + 1}: error TS${d.code}: ${message}`;
}

// ——— the part of the compiler's API used here (typescript is the project's, not a dependency) ———

/** `ts.DiagnosticCategory.Error`, stable since TypeScript 1.x. */
const ERROR = 1;

interface Diagnostic {
  readonly category: number;
  readonly code: number;
  readonly file?: { readonly fileName: string; getLineAndCharacterOfPosition(position: number): { line: number; character: number } };
  readonly start?: number;
  readonly messageText: unknown;
}

interface TypeScriptApi {
  readonly version: string;
  readonly sys: { fileExists(file: string): boolean; readFile(file: string): string | undefined };
  findConfigFile(dir: string, fileExists: (file: string) => boolean): string | undefined;
  readConfigFile(file: string, readFile: (file: string) => string | undefined): { config?: unknown; error?: Diagnostic };
  parseJsonConfigFileContent(
    json: unknown,
    host: unknown,
    basePath: string,
    existingOptions: undefined,
    configFileName: string | undefined,
  ): { options: object; fileNames: string[]; errors: Diagnostic[] };
  createProgram(rootNames: string[], options: object): unknown;
  getPreEmitDiagnostics(program: unknown): readonly Diagnostic[];
  flattenDiagnosticMessageText(messageText: unknown, newLine: string): string;
}
