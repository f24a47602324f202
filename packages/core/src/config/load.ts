/**
 * From a config file (or an object given in code) to the frozen `GatewayConfig`: parse, validate against
 * ./schema.ts, expand shorthands, resolve relative paths against the config's folder, freeze.
 * Everything wrong is reported at once, in one `ConfigError` (docs/design.md convention 8).
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { WsgateError } from '../errors.js';
import type { LogLevel } from '../observe/logger.js';
import { trustedProxyProblem } from '../ingress/real-ip.js';
import type { ConfigIssue } from './issues.js';
import { firstLine, parseConfigText } from './parse-text.js';
import { applyConfigSchema } from './schema.js';
import { findSniIssues, toTlsConfig, type FileTls } from './tls.js';
import { redisUrlProblem } from '../store/redis-url.js';
import type { GatewayConfig, KeepaliveConfig, LimitsConfig, ListenerConfig, RealIpConfig, ScriptConfig, StoreConfig, NodeConfig } from './types.js';

export type { ConfigIssue } from './issues.js';

/**
 * An invalid config: code `WSGATE_CONFIG_INVALID`, every problem in `details`, and a one-line message
 * (the problems joined by `; `, after the file's path when there is one) that the CLI prints as is.
 */
export class ConfigError extends WsgateError {
  constructor(
    readonly details: readonly ConfigIssue[],
    /** The config file, when the config came from one. */
    readonly file?: string,
  ) {
    const list = details.map((d) => `${d.path}: ${d.message}`).join('; ');
    super('WSGATE_CONFIG_INVALID', file ? `invalid config ${file}: ${list}` : list);
  }
}

/** What the command line can change in a config before it is validated. */
export interface ConfigOverrides {
  /** Replaces every listener (`--listen`). */
  readonly listeners?: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  /** Replaces `script.path`, keeping `script.options` (`--script`). Relative to the working directory. */
  readonly scriptPath?: string;
  /** Replaces `log.level` (`--log-level`). */
  readonly logLevel?: LogLevel;
  /** Sets `log.pretty` (`--pretty`). */
  readonly logPretty?: boolean;
  /** Replaces `workers` (`--workers`). */
  readonly workers?: number | 'auto';
}

/**
 * Validates a config in its file form and returns it resolved and deeply frozen.
 * @param input the parsed file, or an object written in code; it is not modified.
 * @param baseDir the folder relative paths (`dataDir`, `tls.cert`, `tls.key`, `tls.sni`'s, `script.path`) are resolved against.
 * @throws {ConfigError} listing every problem, each with its path such as `listeners[0].port`.
 */
export function resolveConfig(input: unknown, baseDir: string): GatewayConfig {
  const data = clonePlain(input);
  const issues = [
    ...applyConfigSchema(data),
    ...findDuplicateListeners(data),
    ...findSniIssues(data),
    ...findBadTrustedProxies(data),
    ...findManagementTokenIssue(data),
    ...findSendQueueIssue(data),
    ...findStoreUrlIssue(data),
  ];
  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze(toGatewayConfig(data as FileConfig, path.resolve(baseDir)));
}

/**
 * Reads, validates and resolves a `.json`, `.yaml` or `.yml` config file; relative paths in it are taken
 * from the file's folder.
 * @throws {WsgateError} `WSGATE_CONFIG_UNREADABLE` when the file cannot be read;
 *   {@link ConfigError} (`WSGATE_CONFIG_INVALID`) for a syntax error (with line and column) or invalid content.
 */
export async function loadConfigFile(file: string, overrides?: ConfigOverrides): Promise<GatewayConfig> {
  const absolute = path.resolve(file);
  const parsed = await readConfigFile(absolute);
  const input = overrides ? applyConfigOverrides(parsed, overrides) : parsed;
  try {
    return resolveConfig(input, path.dirname(absolute));
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.details, absolute);
    throw error;
  }
}

/** Reads and parses a config file without validating it (the CLI applies its flags in between). */
export async function readConfigFile(file: string): Promise<unknown> {
  const absolute = path.resolve(file);
  const format = path.extname(absolute).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(format)) {
    throw new WsgateError(
      'WSGATE_CONFIG_UNREADABLE',
      `cannot read config file ${absolute}: unknown format "${format}": use a .json, .yaml or .yml file`,
    );
  }
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    throw new WsgateError(
      'WSGATE_CONFIG_UNREADABLE',
      `cannot read config file ${absolute} (${osReason(error)}): check the path and the file's permissions`,
      { cause: error },
    );
  }
  text = text.replace(/^\uFEFF/, '');
  const parsed = text.trim() === '' ? { value: undefined } : await parseConfigText(text, format === '.json' ? 'json' : 'yaml');
  if ('issues' in parsed) throw new ConfigError(parsed.issues, absolute);
  // Blank, or YAML with only comments.
  if (parsed.value == null) throw new ConfigError([{ path: 'config', message: 'the file is empty: give at least a "listeners" list' }], absolute);
  return parsed.value;
}

/** Applies command-line overrides to a parsed config, without modifying it. */
export function applyConfigOverrides(parsed: unknown, overrides: ConfigOverrides): unknown {
  // Not an object: leave it for validation to report.
  if (!isPlainObject(parsed)) return parsed;
  const out: Record<string, unknown> = { ...parsed };
  if (overrides.listeners) out.listeners = overrides.listeners.map((l) => ({ host: l.host, port: l.port }));
  if (overrides.scriptPath !== undefined) {
    // Resolved now, against the working directory: that is where a path typed on the command line is from.
    const scriptPath = path.resolve(overrides.scriptPath);
    out.script = isPlainObject(parsed.script) ? { ...parsed.script, path: scriptPath } : { path: scriptPath };
  }
  if (overrides.workers !== undefined) out.workers = overrides.workers;
  if (overrides.logLevel !== undefined) {
    out.log = isPlainObject(parsed.log) ? { ...parsed.log, level: overrides.logLevel } : { level: overrides.logLevel };
  }
  if (overrides.logPretty !== undefined) {
    out.log = isPlainObject(out.log) ? { ...out.log, pretty: overrides.logPretty } : { pretty: overrides.logPretty };
  }
  return out;
}

/** `"host:port"`, with IPv6 hosts in brackets so the port stays unambiguous. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

// ——— the file form, after ajv has filled the defaults ———

interface FileListener {
  name?: string;
  host: string;
  port: number;
  tls?: FileTls;
  proxyProtocol?: boolean;
}

interface FileConfig {
  listeners: FileListener[];
  names: string[];
  dataDir: string;
  script?: string | { path: string; options: Record<string, unknown> };
  limits: LimitsConfig;
  keepalive: KeepaliveConfig;
  shutdown: { grace: number };
  log: { level: LogLevel; pretty?: boolean; file?: string };
  realIp?: RealIpConfig;
  accessLog?: { path: string; format?: string };
  metrics?: { host: string; port: number; path: string };
  management?: { host: string; port: number; token?: string; tokenFile?: string };
  store?: StoreConfig;
  node?: NodeConfig;
  workers: number | 'auto';
}

function toGatewayConfig(file: FileConfig, baseDir: string): GatewayConfig {
  const listeners = file.listeners.map((l): ListenerConfig => {
    const tls = toTlsConfig(l.tls, baseDir);
    return {
      name: l.name ?? formatHostPort(l.host, l.port),
      host: l.host,
      port: l.port,
      ...(tls ? { tls } : {}),
      ...(l.proxyProtocol ? { proxyProtocol: true } : {}),
    };
  });
  let script: ScriptConfig | undefined;
  if (typeof file.script === 'string') script = { path: path.resolve(baseDir, file.script), options: {} };
  else if (file.script) script = { path: path.resolve(baseDir, file.script.path), options: file.script.options };
  return {
    listeners,
    names: file.names,
    dataDir: path.resolve(baseDir, file.dataDir),
    ...(script ? { script } : {}),
    limits: file.limits,
    keepalive: file.keepalive,
    shutdown: file.shutdown,
    log: file.log.file === undefined ? file.log : { ...file.log, file: path.resolve(baseDir, file.log.file) },
    ...(file.realIp ? { realIp: file.realIp } : {}),
    ...(file.accessLog ? { accessLog: { ...file.accessLog, path: file.accessLog.path === '-' ? '-' : path.resolve(baseDir, file.accessLog.path) } } : {}),
    ...(file.metrics ? { metrics: file.metrics } : {}),
    ...(file.management
      ? { management: { ...file.management, ...(file.management.tokenFile ? { tokenFile: path.resolve(baseDir, file.management.tokenFile) } : {}) } }
      : {}),
    ...(file.store ? { store: file.store } : {}),
    ...(file.node ? { node: file.node } : {}),
    workers: file.workers,
  };
}

/** Two listeners on one host:port would fail at listen() with a less helpful EADDRINUSE; say it now. */
function findDuplicateListeners(data: unknown): ConfigIssue[] {
  if (!isPlainObject(data) || !Array.isArray(data.listeners)) return [];
  const issues: ConfigIssue[] = [];
  const addresses = new Map<string, number>();
  const names = new Map<string, number>();
  data.listeners.forEach((l: unknown, i) => {
    if (!isPlainObject(l)) return;
    const { host, port, name } = l;
    if (typeof host === 'string' && typeof port === 'number' && Number.isInteger(port) && port !== 0) {
      const address = formatHostPort(host.toLowerCase(), port);
      const first = addresses.get(address);
      if (first === undefined) addresses.set(address, i);
      else issues.push({ path: `listeners[${i}]`, message: `${address} is already used by listeners[${first}]: give each listener its own host:port` });
    }
    if (typeof name === 'string') {
      const first = names.get(name);
      if (first === undefined) names.set(name, i);
      else issues.push({ path: `listeners[${i}].name`, message: `"${name}" is already the name of listeners[${first}]: give each listener its own name` });
    }
  });
  return issues;
}

/**
 * The management API's token has one source at most: inline, a file, or neither (then one is made in
 * dataDir at start). JSON Schema's oneOf would say it less clearly.
 */
function findManagementTokenIssue(data: unknown): ConfigIssue[] {
  if (!isPlainObject(data) || !isPlainObject(data.management)) return [];
  const { token, tokenFile } = data.management;
  if (token !== undefined && tokenFile !== undefined) {
    return [{ path: 'management', message: 'give token or tokenFile, not both (or neither: a token is then made in dataDir/management.token)' }];
  }
  return [];
}

/** `limits.sendQueue.close` must be above `pause`: at or under it, the gateway would close before it ever paused. */
function findSendQueueIssue(data: unknown): ConfigIssue[] {
  if (!isPlainObject(data) || !isPlainObject(data.limits) || !isPlainObject(data.limits.sendQueue)) return [];
  const { pause, close } = data.limits.sendQueue;
  if (!Number.isInteger(pause) || !Number.isInteger(close) || (close as number) > (pause as number)) return [];
  return [{ path: 'limits.sendQueue.close', message: `must be more than limits.sendQueue.pause (${pause}), got ${close}: raise close or lower pause` }];
}

/** `store.redis.url` must be a redis:// or rediss:// URL; the schema only knows it is a string. */
function findStoreUrlIssue(data: unknown): ConfigIssue[] {
  if (!isPlainObject(data) || !isPlainObject(data.store) || !isPlainObject(data.store.redis)) return [];
  const { url } = data.store.redis;
  const problem = typeof url === 'string' && url !== '' ? redisUrlProblem(url) : undefined;
  return problem ? [{ path: 'store.redis.url', message: problem }] : [];
}

/** `realIp.trustedProxies` entries must be addresses or CIDRs; the schema only knows they are strings. */
function findBadTrustedProxies(data: unknown): ConfigIssue[] {
  if (!isPlainObject(data) || !isPlainObject(data.realIp) || !Array.isArray(data.realIp.trustedProxies)) return [];
  return data.realIp.trustedProxies.flatMap((entry: unknown, i) => {
    const problem = typeof entry === 'string' && entry !== '' ? trustedProxyProblem(entry) : undefined;
    return problem ? [{ path: `realIp.trustedProxies[${i}]`, message: problem }] : [];
  });
}

// ——— helpers ———

/** `ENOENT: no such file or directory` from a Node fs error. */
function osReason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (typeof e?.code === 'string') return `${e.code}: ${firstLine(e.message).replace(/^\w+: /, '').replace(/, \w+( '.*')?$/, '')}`;
  return firstLine(String(error));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of the plain objects and arrays in `value` (ajv fills defaults in place, and the caller's object
 * must stay untouched). Anything else, such as a class instance in `script.options`, is kept by reference.
 */
function clonePlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clonePlain);
  // fromEntries defines own properties, so a "__proto__" key stays a key (and is reported as unknown).
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clonePlain(v)]));
  return value;
}

/** Freezes the plain objects and arrays of the config: the ones it owns, all copies. */
function deepFreeze<T>(value: T): T {
  if (Array.isArray(value) || isPlainObject(value)) {
    for (const child of Object.values(value as object)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
