/**
 * `upstreams()` options checked once and turned into the settings a pool runs on (docs/design.md convention 8):
 * defaults filled in, files read, durations in milliseconds, then frozen.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '@wsgate/core';
import { parseUpstreamAddress } from './address.js';
import type { Balancer } from './balance/balancer.js';
import { balancerFor } from './balance/by-name.js';
import type { UpstreamAddress } from './address.js';
import type { NodeSettings } from './node.js';
import { boolean, headerName, integer, invalidOption, knownKeys, oneOf, seconds, tokenList } from '../kit/option-checks.js';
import type { HeaderValue, UpstreamsOptions } from './options.js';

export interface HeaderSettings {
  readonly host: 'client' | 'upstream' | { readonly fixed: string };
  readonly realIp: string | undefined;
  readonly realIpWithPort: boolean;
  readonly forwardedFor: boolean;
  readonly forwardedProto: boolean;
  /** Lower-case name, name as written, value. */
  readonly set: readonly (readonly [string, string, HeaderValue])[];
  /** Lower-case names of the client's headers that the gateway sets itself. */
  readonly replaced: ReadonlySet<string>;
}

export interface TlsSettings {
  readonly verify: boolean;
  readonly ca: string | undefined;
  readonly servername: string | undefined;
  readonly sni: boolean;
}

export interface HealthSettings {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fall: number;
  readonly expect: (status: number) => boolean;
  readonly host: string | undefined;
}

export interface PoolSettings {
  readonly nodes: readonly NodeSettings[];
  readonly balancer: Balancer;
  readonly tls: TlsSettings;
  readonly headers: HeaderSettings;
  readonly connectTimeoutMs: number;
  readonly websocketIdleMs: number;
  readonly httpIdleMs: number;
  readonly maxBodySize: number;
  /** Idle connections kept per node for plain HTTP (nginx `keepalive`); 0 sends `Connection: close`. */
  readonly keepAlive: number;
  readonly tries: number;
  readonly health: HealthSettings | undefined;
  readonly ping: { readonly intervalMs: number; readonly timeoutMs: number } | undefined;
  readonly maxMessageSize: number;
  /** Upgrade protocols besides WebSocket that are tunnelled (lower case). */
  readonly upgrades: ReadonlySet<string>;
  readonly logger: Logger | undefined;
}

const TOP = ['servers', 'balance', 'tls', 'headers', 'timeouts', 'maxBodySize', 'keepAlive', 'maxFails', 'failTimeout', 'tries', 'healthCheck', 'ping', 'maxMessageSize', 'upgrades', 'logger'];
const SERVER = ['url', 'weight', 'name', 'maxFails', 'failTimeout', 'backup', 'down'];

/** @throws {WsgateError} `WSGATE_CONFIG_INVALID` naming the first bad option (`upstreams().servers[1].weight`) and the fix. */
export function resolvePoolSettings(fn: string, options: UpstreamsOptions): PoolSettings {
  const o = knownKeys(fn, options, TOP) as unknown as UpstreamsOptions;
  if (!Array.isArray(o.servers) || o.servers.length === 0) {
    throw invalidOption(`${fn}.servers`, 'give at least one server, e.g. servers: ["ws://127.0.0.1:9000"]');
  }
  const maxFails = integer(`${fn}.maxFails`, o.maxFails, 1, 0, 1000);
  const failTimeout = seconds(`${fn}.failTimeout`, o.failTimeout, 10);
  const nodes = o.servers.map((spec, i): NodeSettings => {
    const where = `${fn}.servers[${i}]`;
    const s = typeof spec === 'string' ? { url: spec } : knownKeys(where, spec, SERVER);
    const address = parseUpstreamAddress(s.url, typeof spec === 'string' ? where : `${where}.url`);
    return resolveNode(where, s, address, address.socketPath ?? `${address.host}:${address.port}`, { maxFails, failTimeout });
  });
  const names = new Set(nodes.map((n) => n.name));
  if (names.size !== nodes.length) throw invalidOption(`${fn}.servers`, 'two servers have the same name: give each a distinct name');
  if (nodes.every((n) => n.backup || n.down)) throw invalidOption(`${fn}.servers`, 'every server is a backup or down: at least one must be a primary');

  const timeouts = knownKeys(`${fn}.timeouts`, o.timeouts, ['connect', 'websocket', 'http']);
  const ping = o.ping === undefined ? undefined : knownKeys(`${fn}.ping`, o.ping, ['interval', 'timeout']);
  const pingInterval = ping ? seconds(`${fn}.ping.interval`, ping.interval, NaN, 0.05) : NaN;
  if (ping && Number.isNaN(pingInterval)) throw invalidOption(`${fn}.ping.interval`, 'give the seconds between pings, e.g. ping: { interval: 30 }');

  return Object.freeze({
    nodes,
    balancer: balancerFor(`${fn}.balance`, o.balance),
    tls: resolveTls(`${fn}.tls`, o.tls),
    headers: resolveHeaders(`${fn}.headers`, o.headers),
    connectTimeoutMs: seconds(`${fn}.timeouts.connect`, timeouts.connect, 10) * 1000,
    websocketIdleMs: seconds(`${fn}.timeouts.websocket`, timeouts.websocket, 86_400) * 1000,
    httpIdleMs: seconds(`${fn}.timeouts.http`, timeouts.http, 600) * 1000,
    maxBodySize: integer(`${fn}.maxBodySize`, o.maxBodySize, 1024 * 1024, 0),
    keepAlive: integer(`${fn}.keepAlive`, o.keepAlive, 0, 0, 10_000),
    tries: integer(`${fn}.tries`, o.tries, nodes.length, 1, 1000),
    health: o.healthCheck === undefined ? undefined : resolveHealth(`${fn}.healthCheck`, o.healthCheck),
    ping: ping ? { intervalMs: pingInterval * 1000, timeoutMs: seconds(`${fn}.ping.timeout`, ping.timeout, pingInterval, 0.05) * 1000 } : undefined,
    maxMessageSize: integer(`${fn}.maxMessageSize`, o.maxMessageSize, 1024 * 1024, 1),
    upgrades: resolveUpgrades(`${fn}.upgrades`, o.upgrades),
    logger: o.logger,
  });
}

/** Protocol names as `Upgrade` carries them without a version (`h2c`); WebSocket needs no naming. */
function resolveUpgrades(where: string, value: unknown): ReadonlySet<string> {
  if (Array.isArray(value)) {
    const i = value.findIndex((v) => typeof v === 'string' && v.includes('/'));
    if (i >= 0) throw invalidOption(`${where}[${i}]`, `give the protocol without its version: "${String(value[i]).split('/')[0]}"`);
  }
  const names = tokenList(where, value, '["h2c"]');
  const i = names.indexOf('websocket');
  if (i >= 0) throw invalidOption(`${where}[${i}]`, 'WebSocket upgrades are always proxied: list only other protocols');
  return new Set(names);
}

function resolveTls(where: string, value: unknown): TlsSettings {
  const t = knownKeys(where, value, ['verify', 'caFile', 'servername', 'sni']);
  let ca: string | undefined;
  if (t.caFile !== undefined) {
    if (typeof t.caFile !== 'string') throw invalidOption(`${where}.caFile`, 'expected the path of a PEM file');
    try {
      ca = readFileSync(t.caFile, 'utf8');
    } catch (err) {
      throw invalidOption(`${where}.caFile`, `cannot read ${t.caFile} (${(err as NodeJS.ErrnoException).code}): give the path of a PEM file of CA certificates`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw invalidOption(`${where}.caFile`, `${t.caFile} holds no PEM certificate`);
  }
  if (t.servername !== undefined && (typeof t.servername !== 'string' || t.servername === '')) {
    throw invalidOption(`${where}.servername`, 'expected a host name');
  }
  const verify = boolean(`${where}.verify`, t.verify, true);
  if (!verify && ca !== undefined) throw invalidOption(`${where}.caFile`, 'a CA file with verify: false would not be used: remove one of them');
  return { verify, ca, servername: t.servername as string | undefined, sni: boolean(`${where}.sni`, t.sni, true) };
}

function resolveHeaders(where: string, value: unknown): HeaderSettings {
  const h = knownKeys(where, value, ['host', 'realIp', 'realIpFormat', 'forwardedFor', 'forwardedProto', 'set']);
  if (h.host !== undefined && (typeof h.host !== 'string' || h.host === '')) {
    throw invalidOption(`${where}.host`, 'expected "client", "upstream" or a host name');
  }
  const host = h.host === undefined || h.host === 'client' ? 'client' : h.host === 'upstream' ? 'upstream' : { fixed: h.host as string };
  let realIp: string | undefined = 'X-Real-IP';
  if (h.realIp === false) realIp = undefined;
  else if (h.realIp !== undefined) {
    if (typeof h.realIp !== 'string') throw invalidOption(`${where}.realIp`, 'expected a header name or false');
    realIp = headerName(`${where}.realIp`, h.realIp);
  }
  const set = resolveSetHeaders(`${where}.set`, h.set);
  const forwardedFor = boolean(`${where}.forwardedFor`, h.forwardedFor, true);
  const forwardedProto = boolean(`${where}.forwardedProto`, h.forwardedProto, true);
  const replaced = new Set(set.map(([lower]) => lower));
  if (realIp) replaced.add(realIp.toLowerCase());
  if (forwardedFor) replaced.add('x-forwarded-for');
  if (forwardedProto) replaced.add('x-forwarded-proto');
  return {
    host,
    realIp,
    realIpWithPort: oneOf(`${where}.realIpFormat`, h.realIpFormat, ['ip', 'ip:port'], 'ip') === 'ip:port',
    forwardedFor,
    forwardedProto,
    set,
    replaced,
  };
}

function resolveHealth(where: string, value: unknown): HealthSettings {
  const h = knownKeys(where, value, ['path', 'interval', 'timeout', 'rise', 'fall', 'expect', 'host']);
  if (h.path !== undefined && (typeof h.path !== 'string' || !h.path.startsWith('/'))) throw invalidOption(`${where}.path`, 'expected a path starting with "/"');
  if (h.expect !== undefined && typeof h.expect !== 'function') throw invalidOption(`${where}.expect`, 'expected a function (status) => boolean');
  if (h.host !== undefined && typeof h.host !== 'string') throw invalidOption(`${where}.host`, 'expected a host name');
  return {
    path: (h.path as string | undefined) ?? '/',
    intervalMs: seconds(`${where}.interval`, h.interval, 5, 0.05) * 1000,
    timeoutMs: seconds(`${where}.timeout`, h.timeout, 2, 0.05) * 1000,
    rise: integer(`${where}.rise`, h.rise, 2, 1, 100),
    fall: integer(`${where}.fall`, h.fall, 3, 1, 100),
    expect: (h.expect as ((s: number) => boolean) | undefined) ?? ((s: number) => s >= 200 && s < 400),
    host: h.host as string | undefined,
  };
}

/** `set` headers as [lower-case name, name, value]; `Host` has its own option. */
export function resolveSetHeaders(where: string, value: unknown): (readonly [string, string, HeaderValue])[] {
  const entries = Object.entries(knownKeys(where, value, Object.keys((value as object | undefined) ?? {})));
  return entries.map(([name, v]) => {
    headerName(where, name);
    if (name.toLowerCase() === 'host') throw invalidOption(`${where}.${name}`, 'set the Host header with headers.host');
    if (v !== null && typeof v !== 'string' && typeof v !== 'function') {
      throw invalidOption(`${where}.${name}`, 'expected a string, a function of the request, or null to remove the header');
    }
    if (typeof v === 'string' && /[\r\n\0]/.test(v)) throw invalidOption(`${where}.${name}`, 'a header value must not contain CR, LF or NUL');
    return [name.toLowerCase(), name, v as HeaderValue] as const;
  });
}

/** A node's parameters (nginx `server … weight= max_fails= fail_timeout= backup down`), defaults filled in. */
export function resolveNode(
  where: string,
  s: Record<string, unknown>,
  address: UpstreamAddress,
  defaultName: string,
  defaults: { maxFails: number; failTimeout: number },
): NodeSettings {
  const name = s.name ?? defaultName;
  if (typeof name !== 'string' || name === '') throw invalidOption(`${where}.name`, 'expected a non-empty string');
  return {
    address,
    name,
    weight: integer(`${where}.weight`, s.weight, 1, 1, 1000),
    maxFails: integer(`${where}.maxFails`, s.maxFails, defaults.maxFails, 0, 1000),
    failTimeoutMs: seconds(`${where}.failTimeout`, s.failTimeout, defaults.failTimeout) * 1000,
    backup: boolean(`${where}.backup`, s.backup, false),
    down: boolean(`${where}.down`, s.down, false),
  };
}
