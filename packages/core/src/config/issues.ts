/**
 * How a failed schema check becomes a ConfigIssue an operator can act on: the field's path
 * (`listeners[0].port`), what is expected there (the schema's `expected` annotation), what was given, and
 * for an unknown key the known key it most likely meant.
 */
import type { ErrorObject } from 'ajv/dist/2019.js';

/** One problem in a config: where (`listeners[0].port`) and what is expected there. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

export function describeError(error: ErrorObject): ConfigIssue {
  const at = pointerToSegments(error.instancePath);
  const parent = (error.parentSchema ?? {}) as SchemaNode;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys(parent.properties ?? {});
      const guess = closest(key, known);
      const hint = guess ? `, did you mean ${guess}?` : '';
      return { path: formatPath([...at, key]), message: `unknown field (known: ${known.join(', ')})${hint}` };
    }
    case 'required': {
      const key = String(params.missingProperty);
      const child = parent.properties?.[key];
      return { path: formatPath([...at, key]), message: `is required: give ${child ? expectedOf(child) : 'a value'}` };
    }
    case 'dependentRequired':
      return {
        path: formatPath(at),
        message: `${String(params.property)} is given but ${String(params.missingProperty)} is not: give both cert and key, or neither for a self-signed certificate`,
      };
    default:
      return { path: formatPath(at), message: `must be ${expectedOf(parent)}, got ${describeValue(error.data)}` };
  }
}

interface SchemaNode {
  expected?: string;
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
}

function expectedOf(node: SchemaNode): string {
  if (node.enum) return `one of ${node.enum.join(', ')}`;
  return node.expected ?? 'something else';
}

/** A short, exact rendering of a bad value: `"80a"`, `70000`, `null`, `{"a":1}`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function pointerToSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `['listeners', '0', 'port']` → `listeners[0].port`; the root is `config`. */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const segment of segments) {
    const s = String(segment);
    if (/^\d+$/.test(s)) out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out === '' ? 'config' : out;
}

/** The known key a typo most likely meant (edit distance ≤ 2, case ignored), if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps ("Szie"). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
