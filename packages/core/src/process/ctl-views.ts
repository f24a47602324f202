/**
 * `wsgate ctl <view>`: the views route modules add (management/views.ts). A command that is not one of ctl's
 * own names a view; its `--key value` options are the view's filters, which the gateway checks (a key the
 * view does not take is refused with the keys it does).
 */

/** ctl's own options: those that take a value, and the switches. Anything else after a view is a filter. */
const VALUE_OPTIONS = new Set(['config', 'c', 'url', 'token', 'token-file', 'offset', 'limit']);
const SWITCHES = new Set(['json', 'help', 'h']);

export class CtlArgsError extends Error {}

/**
 * Splits a view command's arguments: ctl's own options stay for parseArgs, the rest become filters
 * (`--aor sip:alice@example.com`, `--user=alice`, `--filter connection=42`). Returns undefined when the
 * command is one of ctl's own (`builtins`), or there is none: then parseArgs reads argv as it is.
 */
export function splitViewArgs(argv: readonly string[], builtins: ReadonlySet<string>): { argv: string[]; filters: Array<[string, string]> } | undefined {
  const kept: string[] = [];
  const filters: Array<[string, string]> = [];
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    const option = /^--?([^=]+)(?:=(.*))?$/s.exec(token);
    if (!option || token === '-' || token === '--') {
      command ??= token;
      kept.push(token);
      continue;
    }
    const [, name, inline] = option as unknown as [string, string, string | undefined];
    if (SWITCHES.has(name)) {
      kept.push(token);
      continue;
    }
    const value = inline ?? argv[i + 1];
    if (inline === undefined) i++;
    if (VALUE_OPTIONS.has(name)) {
      kept.push(token);
      if (inline === undefined && value !== undefined) kept.push(value);
      continue;
    }
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new CtlArgsError(`--${name} needs a value, such as --${name} VALUE`);
    if (name === 'filter') {
      const eq = value.indexOf('=');
      if (eq <= 0) throw new CtlArgsError(`--filter ${value}: write it as --filter KEY=VALUE`);
      filters.push([value.slice(0, eq), value.slice(eq + 1)]);
    } else {
      filters.push([name, value]);
    }
  }
  if (command === undefined || builtins.has(command)) return undefined;
  return { argv: kept, filters };
}

type Row = Record<string, unknown>;

/** A view's page as a table: a column per key (in the order the rows have them), `-` for none. */
export function formatViewPage(page: { view: string; total: number; offset: number; rows: Row[] }): string {
  if (page.rows.length === 0) return `no ${page.view} (total ${page.total})`;
  const keys: string[] = [];
  for (const row of page.rows) for (const k of Object.keys(row)) if (!keys.includes(k)) keys.push(k);
  const headers = keys.map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase());
  const cells = page.rows.map((r) => keys.map((k) => (r[k] === null || r[k] === undefined || r[k] === '' ? '-' : String(r[k]))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  const last = page.offset + page.rows.length;
  return `${[line(headers), ...cells.map(line)].join('\n')}\n${page.offset + 1}–${last} of ${page.total}`;
}

/** `wsgate ctl views`: the views the gateway serves, one a line, with their filters. */
export function formatViews(data: { views: Array<{ name: string; help: string; filters: string[] }> }): string {
  if (data.views.length === 0) return 'no views: the route modules mounted add none';
  const width = Math.max(...data.views.map((v) => v.name.length));
  return data.views
    .map((v) => `${v.name.padEnd(width)}  ${v.help}${v.filters.length > 0 ? ` (filters: ${v.filters.map((f) => `--${f}`).join(' ')})` : ''}`)
    .join('\n');
}
