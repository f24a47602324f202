/**
 * A config file's text to data, YAML or JSON, or the syntax errors with line and column (JSON.parse gives an
 * offset at best, so a small scanner finds where the first error is).
 */
import type { ConfigIssue } from './issues.js';

export type Parsed = { value: unknown } | { issues: ConfigIssue[] };

/** yaml is loaded only for YAML files: a gateway configured in code does not carry it in its heap. */
async function parseYaml(text: string): Promise<Parsed> {
  const { parseDocument } = await import('yaml');
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    return {
      issues: doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : 'YAML',
        message: `YAML syntax error: ${firstLine(e.message).replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    };
  }
  try {
    return { value: doc.toJS() };
  } catch (error) {
    // e.g. "Excessive alias count": the text parsed but cannot become data.
    return { issues: [{ path: 'YAML', message: firstLine(error instanceof Error ? error.message : String(error)) }] };
  }
}

function parseJson(text: string): Parsed {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    // V8's messages give a character offset at best (and not in every Node version); find line and column.
    const found = locateJsonError(text);
    if (!found) return { issues: [{ path: 'JSON', message: `JSON syntax error: ${firstLine(String(error))}` }] };
    const before = text.slice(0, found.offset).split('\n');
    const line = before.length;
    const column = before[before.length - 1]!.length + 1;
    return { issues: [{ path: `line ${line}, column ${column}`, message: `JSON syntax error: ${found.message}` }] };
  }
}

/** A strict JSON scanner that only finds where the first syntax error is, and what was expected there. */
function locateJsonError(text: string): { offset: number; message: string } | undefined {
  let i = 0;
  const fail = (expected: string): never => {
    const found = i < text.length ? JSON.stringify(text[i]) : 'the end of the file';
    throw { offset: i, message: `expected ${expected}, found ${found}` };
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const string = () => {
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('a closing quote');
      else if (c === '"') return void i++;
      else if (c < ' ') fail('no line breaks or control characters inside a string');
      else if (c === '\\') {
        i++;
        if (text[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 5;
        else if (text[i] !== undefined && '"\\/bfnrt'.includes(text[i]!)) i++;
        else fail('an escape such as \\n, \\" or \\u00e9');
      } else i++;
    }
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) return void i++;
      for (;;) {
        space();
        if (c === '{') {
          if (text[i] !== '"') fail('a "quoted" key');
          string();
          space();
          if (text[i] !== ':') fail('":"');
          i++;
        }
        value();
        space();
        if (text[i] === close) return void i++;
        if (text[i] !== ',') fail(`"," or "${close}"`);
        i++;
      }
    }
    if (c === '"') return string();
    for (const literal of ['true', 'false', 'null']) if (text.startsWith(literal, i)) return void (i += literal.length);
    number.lastIndex = i;
    if (number.test(text)) return void (i = number.lastIndex);
    fail('a value');
  };
  try {
    value();
    space();
    if (i < text.length) fail('the end of the file');
    return undefined;
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'offset' in error) return error as { offset: number; message: string };
    return undefined; // e.g. too deeply nested for this recursive scanner
  }
}

export function parseConfigText(text: string, format: 'json' | 'yaml'): Promise<Parsed> {
  return format === 'json' ? Promise.resolve(parseJson(text)) : parseYaml(text);
}

export function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.trim();
}
