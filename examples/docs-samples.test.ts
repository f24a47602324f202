/**
 * Every ```ts block in README.md, docs/*.md and the public packages' READMEs is a complete module that must
 * type-check against the packages as built: the docs cannot drift from the code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const documents = [
  'README.md',
  // What the registry shows for each public package.
  ...['handshake', 'core', 'routes'].map((name) => `packages/${name}/README.md`),
  ...(readdirSync(join(root, 'docs'), { recursive: true }) as string[]).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
];

interface Sample {
  readonly file: string;
  readonly doc: string;
  readonly line: number;
  readonly code: string;
}

function samplesOf(doc: string): Sample[] {
  const text = readFileSync(join(root, doc), 'utf8');
  const out: Sample[] = [];
  const fence = /^```ts\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(text); m !== null; m = fence.exec(text)) {
    const line = text.slice(0, m.index).split('\n').length + 1;
    // Virtual files live in examples/, whose node_modules resolve @wsgate/* to the workspace packages.
    out.push({ file: join(root, 'examples', `__doc_${doc.replace(/[/.]/g, '_')}_${line}.ts`), doc, line, code: m[1]! });
  }
  return out;
}

function typeCheck(samples: readonly Sample[]): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'examples', 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const options: ts.CompilerOptions = { ...config.options, noEmit: true, composite: false, declaration: false, declarationMap: false, incremental: false };
  const virtual = new Map(samples.map((s) => [s.file, s.code]));
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (f) => virtual.get(f) ?? readFile(f);
  host.fileExists = (f) => virtual.has(f) || fileExists(f);
  const program = ts.createProgram([...virtual.keys()], options, host);
  const bySample = new Map(samples.map((s) => [s.file, s]));
  return ts.getPreEmitDiagnostics(program).flatMap((d) => {
    const sample = d.file ? bySample.get(d.file.fileName) : undefined;
    if (!sample) return d.file ? [] : [ts.flattenDiagnosticMessageText(d.messageText, '\n')];
    const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
    return [`${sample.doc}:${sample.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`];
  });
}

describe('code samples in the docs', () => {
  const samples = documents.flatMap(samplesOf);

  it('exist in the README and the reference', () => {
    expect(samples.filter((s) => s.doc === 'README.md').length).toBeGreaterThanOrEqual(2);
    expect(samples.filter((s) => s.doc === 'docs/reference.md').length).toBeGreaterThanOrEqual(4);
    for (const story of ['s1-kamailio', 's2-media-server', 's3-collab-cluster', 's4-tls-terminator']) {
      expect(samples.some((s) => s.doc === `docs/guides/${story}.md`), story).toBe(true);
    }
  });

  it('all type-check against the built packages', () => {
    expect(typeCheck(samples)).toEqual([]);
  });
});
