/**
 * `wsgate ctl`: the management API from a shell, with readable tables or `--json`.
 * Kamailio's `kamcmd ws.dump` / `ws.close` / `ws.ping` / `ws.disable` / `ws.enable`.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatHostPort, loadConfigFile } from '../config/load.js';
import { managementToken } from '../management/operations.js';
import { CtlArgsError, formatViewPage, formatViews, splitViewArgs } from './ctl-views.js';

export const CTL_USAGE = `Usage: wsgate ctl [options] COMMAND [ARGS]

Commands:
  status                      pid, uptime, WebSockets enabled or not, connections, workers
  list                        open WebSockets (Kamailio's ws.dump); filters: --protocol P --client IP
                              --idle SECONDS; paging: --offset N --limit N; with store.redis, every
                              node's (NODE column), and close, ping, show reach any node's
  show ID                     one connection
  close ID [--code N] [--reason TEXT]   close one (default 1000)
  ping ID                     send it a ping
  disable | enable            refuse (503) or accept new WebSockets; open ones stay
  reload                      re-read config, route script and certificates
  views                       the views the mounted route modules serve (such as registrations)
  VIEW [--KEY VALUE ...]      one of them as a table, filtered by its keys (or --filter KEY=VALUE);
                              paging: --offset N --limit N

Options:
  -c, --config FILE     take the API's address and token from the gateway's config (management section)
      --url URL         the API's address (default from --config, else http://127.0.0.1:9180)
      --token TOKEN     the bearer token (or --token-file FILE, or $WSGATE_TOKEN, or from --config)
      --token-file FILE
      --json            print the API's JSON instead of tables
  -h, --help            show this help
`;

interface Target {
  readonly url: string;
  readonly token: string;
}

export class CtlError extends Error {
  constructor(
    message: string,
    /** The management API's status, when it answered with an error. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** ctl's own commands; any other names a view (ctl-views.ts). */
const COMMANDS: ReadonlySet<string> = new Set(['status', 'list', 'show', 'close', 'ping', 'disable', 'enable', 'reload', 'views']);

/** Runs one ctl command; resolves with what to print, rejects with a CtlError or WsgateError. */
export async function runCtl(argv: string[]): Promise<string> {
  let view;
  try {
    view = splitViewArgs(argv, COMMANDS);
  } catch (err) {
    if (err instanceof CtlArgsError) throw new CtlError(`${err.message}: run "wsgate ctl --help" for the options`);
    throw err;
  }
  const { values, positionals } = parse(view?.argv ?? argv);
  if (values.help || positionals.length === 0) return CTL_USAGE;
  const target = await resolveTarget(values);
  const [command, id, ...rest] = positionals;
  if (rest.length > 0) throw new CtlError(`too many arguments: ${rest.join(' ')}`);
  const needId = () => {
    if (id === undefined || !/^\d+$/.test(id)) throw new CtlError(`${command} needs a connection id, such as: wsgate ctl ${command} 42`);
    return id;
  };
  const json = values.json ?? false;
  switch (command) {
    case 'status':
      return show(await call(target, 'GET', '/status'), json, formatStatus);
    case 'list': {
      const q = new URLSearchParams();
      for (const key of ['protocol', 'client', 'idle', 'offset', 'limit'] as const) if (values[key] !== undefined) q.set(key, values[key]!);
      return show(await call(target, 'GET', `/connections${q.size ? `?${q}` : ''}`), json, formatList);
    }
    case 'show':
      return show(await call(target, 'GET', `/connections/${needId()}`), json, (c) => formatTable([c as Row]));
    case 'close': {
      const code = values.code === undefined ? 1000 : Number(values.code);
      if (!Number.isInteger(code)) throw new CtlError(`--code ${values.code}: must be a whole number such as 1000 or 4000`);
      const body = { code, reason: values.reason ?? '' };
      return show(await call(target, 'POST', `/connections/${needId()}/close`, body), json, () => `closed ${id} with ${code}`);
    }
    case 'ping':
      return show(await call(target, 'POST', `/connections/${needId()}/ping`), json, () => `pinged ${id}`);
    case 'disable':
    case 'enable':
      return show(await call(target, 'POST', `/websockets/${command}`), json, () => `websockets ${command}d`);
    case 'reload':
      return show(await call(target, 'POST', '/reload'), json, () => 'reloaded');
    case 'views':
      return show(await call(target, 'GET', '/views'), json, formatViews);
    default: {
      const unknown = `unknown command "${command}": run "wsgate ctl --help" for the commands`;
      if (!view || id !== undefined || !/^[a-z][a-z0-9-]*$/.test(command!)) throw new CtlError(id !== undefined && view ? `too many arguments: ${id}` : unknown);
      const q = new URLSearchParams(view.filters);
      for (const key of ['offset', 'limit'] as const) if (values[key] !== undefined) q.set(key, values[key]!);
      try {
        return show(await call(target, 'GET', `/views/${command}${q.size ? `?${q}` : ''}`), json, formatViewPage);
      } catch (err) {
        // No such view: say so as for any unknown command, with the views the gateway has.
        if (err instanceof CtlError && err.status === 404) throw new CtlError(`${unknown}; ${err.message.replace(/^404: /, '')}`);
        throw err;
      }
    }
  }
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        url: { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        protocol: { type: 'string' },
        client: { type: 'string' },
        idle: { type: 'string' },
        offset: { type: 'string' },
        limit: { type: 'string' },
        code: { type: 'string' },
        reason: { type: 'string' },
      },
    });
  } catch (err) {
    throw new CtlError(`${(err as Error).message.split('. ')[0]}: run "wsgate ctl --help" for the options`);
  }
}

async function resolveTarget(values: { config?: string; url?: string; token?: string; 'token-file'?: string }): Promise<Target> {
  const config = values.config !== undefined ? await loadConfigFile(values.config) : undefined;
  if (values.config !== undefined && !config?.management) {
    throw new CtlError(`${values.config} has no management section: add management: { port: 9180 } and restart the gateway`);
  }
  const m = config?.management;
  const url = values.url ?? (m ? `http://${formatHostPort(m.host === '0.0.0.0' ? '127.0.0.1' : m.host, m.port)}` : 'http://127.0.0.1:9180');
  let token = values.token;
  if (token === undefined && values['token-file'] !== undefined) token = (await readFile(values['token-file'], 'utf8').catch(() => '')).trim();
  token ??= process.env.WSGATE_TOKEN;
  if (token === undefined && config) token = await managementToken(config);
  if (!token) throw new CtlError('no bearer token: give --token, --token-file, $WSGATE_TOKEN or --config');
  return { url: url.replace(/\/$/, ''), token };
}

async function call(target: Target, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(target.url + path, {
      method,
      headers: { Authorization: `Bearer ${target.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const inner = (err as { cause?: { code?: string; message?: string } }).cause;
    const cause = inner?.code ?? inner?.message ?? (err as Error).message;
    throw new CtlError(`cannot reach the management API at ${target.url} (${cause}): is the gateway running, with a management section in its config?`);
  }
  const text = await res.text();
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new CtlError(`${target.url}${path} answered ${res.status} with something that is not JSON: is that the management port?`);
  }
  if (!res.ok) throw new CtlError(`${res.status}: ${(data as { error?: string }).error ?? text.trim()}`, res.status);
  return data;
}

function show(data: unknown, json: boolean, format: (data: any) => string): string {
  return json ? JSON.stringify(data, null, 2) : format(data);
}

type Row = Record<string, unknown>;

function formatStatus(s: Row): string {
  return Object.entries(s)
    .map(([k, v]) => `${k.padEnd(14)} ${String(v)}`)
    .join('\n');
}

function formatList(page: { total: number; offset: number; connections: Row[]; partial?: string }): string {
  // A shared directory that could not read the other nodes (Redis out of reach) says so first.
  const partial = page.partial === undefined ? '' : `partial: ${page.partial}\n`;
  if (page.connections.length === 0) return `${partial}no connections (total ${page.total})`;
  const last = page.offset + page.connections.length;
  return `${partial}${formatTable(page.connections)}\n${page.offset + 1}–${last} of ${page.total}`;
}

const COLUMNS: Array<[string, (r: Row) => string]> = [
  ['ID', (r) => String(r.id)],
  ['KIND', (r) => (r.kind === 'proxied' ? 'proxy' : 'term')],
  ['PROTOCOL', (r) => String(r.protocol || '-')],
  ['REMOTE', (r) => String(r.remote)],
  ['PATH', (r) => String(r.path)],
  ['AGE', (r) => duration((Date.now() - Date.parse(String(r.createdAt))) / 1000)],
  ['IDLE', (r) => duration(Number(r.idleSeconds))],
  ['IN', (r) => `${r.messagesIn}/${bytes(Number(r.bytesIn))}`],
  ['OUT', (r) => `${r.messagesOut}/${bytes(Number(r.bytesOut))}`],
];

/** With a shared directory (`store.redis`), the node holding each connection and its user, after the id. */
const SHARED_COLUMNS: Array<[string, (r: Row) => string]> = [
  ['NODE', (r) => String(r.node)],
  ['USER', (r) => String(r.user ?? '-')],
];

function formatTable(rows: Row[]): string {
  const columns = rows.some((r) => r.node !== undefined) ? [COLUMNS[0]!, ...SHARED_COLUMNS, ...COLUMNS.slice(1)] : COLUMNS;
  const cells = rows.map((r) => columns.map(([, get]) => get(r)));
  const widths = columns.map(([name], i) => Math.max(name.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map(([name]) => name)), ...cells.map(line)].join('\n');
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${Math.floor(seconds % 60)}s`;
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}K`;
  return `${(n / 1024 / 1024).toFixed(1)}M`;
}
