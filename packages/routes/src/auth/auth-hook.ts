/**
 * The auth hook: before a request goes on, the gateway POSTs a JSON description of it to your service,
 * whose answer admits or refuses it (nginx's `auth_request`; the source documents' REST hook `/connect`).
 */
import { hostname } from 'node:os';
import type { RequestContext } from '@wsgate/core';
import type { Guard } from '../kit/guard.js';
import { boolean, headerName, invalidOption, knownKeys, seconds } from '../kit/option-checks.js';
import { HookClient } from './hook-client.js';
import { attributeOption } from './options.js';

export interface AuthHookOptions {
  /** The hook's URL (`http:` or `https:`), e.g. `http://127.0.0.1:3000/connect`. */
  readonly url: string;
  /** Seconds to wait for the whole answer. Default 2. */
  readonly timeout?: number;
  /** Admit when the hook cannot be reached or does not answer in time (logged). Default false: 503. */
  readonly failOpen?: boolean;
  /** This gateway's name in the description (`node`). Default the machine's host name. */
  readonly node?: string;
  /** Extra headers sent to the hook, e.g. `{ Authorization: 'Bearer …' }`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Request headers the description carries under `forwarded` when present. Default `['X-Forwarded-For', 'X-Real-IP']`. */
  readonly forwardedHeaders?: readonly string[];
  /** The attribute that receives the session id. Default `session`. */
  readonly sessionAttribute?: string;
  /** Verify the hook's certificate (https). Default true. */
  readonly rejectUnauthorized?: boolean;
}

/** What the hook receives, as JSON. */
export interface SessionDescription {
  readonly node: string;
  /** `ip:port` of the client (`[v6]:port`): unique while its connection lasts. */
  readonly session: string;
  readonly client: { readonly ip: string; readonly port: number };
  readonly listener: string;
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly host: string | null;
  readonly origin: string | null;
  readonly userAgent: string | null;
  /** The forwarded client-IP headers as received (only those present). */
  readonly forwarded: Readonly<Record<string, string>>;
  /** The subprotocols the client offered (`Sec-WebSocket-Protocol`), in order. */
  readonly protocols: readonly string[];
  /** The names of the cookies the request carries; never their values. */
  readonly cookies: readonly string[];
}

/** Describes a request for the hook. */
export function describeSession(req: RequestContext<any>, node: string, forwardedHeaders: readonly string[]): SessionDescription {
  const forwarded: Record<string, string> = {};
  for (const name of forwardedHeaders) {
    const value = req.header(name);
    if (value !== undefined) forwarded[name] = value;
  }
  const ip = req.clientIp;
  return {
    node,
    session: `${ip.includes(':') ? `[${ip}]` : ip}:${req.clientPort}`,
    client: { ip, port: req.clientPort },
    listener: req.listener.name,
    method: req.method,
    path: req.path,
    query: req.query.toString(),
    host: req.host ?? null,
    origin: req.origin ?? null,
    userAgent: req.header('user-agent') ?? null,
    forwarded,
    protocols: (req.header('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim()).filter((p) => p !== ''),
    cookies: Object.keys(req.cookies),
  };
}

/**
 * A 2xx answer admits; its JSON body may carry `{"attributes": {"userId": "42"}}`, set on the request and so
 * on the connection. Any other answer refuses with its status when it is 4xx or 5xx (its `Retry-After`
 * passed on), else with 403. A hook that fails or times out refuses with 503, or admits with `failOpen`.
 * @example const hook = authHook({ url: 'http://127.0.0.1:3000/connect', timeout: 1 });
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` for a bad URL or options.
 */
export function authHook(options: AuthHookOptions): Guard {
  const where = 'authHook()';
  const o = knownKeys(where, options, ['url', 'timeout', 'failOpen', 'node', 'headers', 'forwardedHeaders', 'sessionAttribute', 'rejectUnauthorized']);
  const url = urlOption(o.url);
  const timeout = seconds(`${where}.timeout`, o.timeout, 2, 0.01, 600);
  const failOpen = boolean(`${where}.failOpen`, o.failOpen, false);
  if (o.node !== undefined && (typeof o.node !== 'string' || o.node === '')) throw invalidOption(`${where}.node`, 'expected a non-empty name for this gateway');
  const node = (o.node as string | undefined) ?? hostname();
  const forwardedHeaders = headerNames(`${where}.forwardedHeaders`, o.forwardedHeaders ?? ['X-Forwarded-For', 'X-Real-IP']);
  const sessionAttribute = attributeOption(`${where}.sessionAttribute`, o.sessionAttribute, 'session');
  const extraHeaders = knownKeys(`${where}.headers`, o.headers, Object.keys(o.headers ?? {})) as Record<string, unknown>;
  for (const [name, value] of Object.entries(extraHeaders)) {
    headerName(`${where}.headers`, name);
    if (typeof value !== 'string' || /[\r\n]/.test(value)) throw invalidOption(`${where}.headers.${name}`, 'expected a header value: a string without line breaks');
  }
  const client = new HookClient(url, timeout * 1000, extraHeaders as Record<string, string>, boolean(`${where}.rejectUnauthorized`, o.rejectUnauthorized, true));

  return {
    name: 'auth-hook',
    async check(req) {
      const description = describeSession(req, node, forwardedHeaders);
      let answer;
      try {
        answer = await client.post(JSON.stringify(description));
      } catch (err) {
        if (failOpen) {
          req.log.warn({ err, hook: url.href }, 'auth hook failed; admitted (failOpen)');
          req.set(sessionAttribute, description.session);
          return true;
        }
        // The details stay in the log: the client need not learn the hook's address.
        req.log.warn({ err, hook: url.href }, 'auth hook failed');
        req.refuse(503, 'auth-hook', 'auth hook unavailable', { 'Retry-After': '5' });
        return false;
      }
      if (answer.status >= 200 && answer.status < 300) {
        req.set(sessionAttribute, description.session);
        for (const [key, value] of Object.entries(attributesOf(req, answer.body))) {
          if (key !== '__proto__' && key !== 'constructor' && key !== 'prototype') req.set(key, value);
        }
        return true;
      }
      const status = answer.status >= 400 && answer.status <= 599 ? answer.status : 403;
      const retry = answer.headers['retry-after'];
      req.refuse(status, 'auth-hook', `refused by the auth hook (HTTP ${answer.status})`, typeof retry === 'string' && /^\d+$/.test(retry) ? { 'Retry-After': retry } : {});
      return false;
    },
    async close() {
      client.close();
    },
  };
}

/** The `attributes` object of a 2xx answer's JSON, if any; a body that is not such JSON is logged and ignored. */
function attributesOf(req: RequestContext<any>, body: string): Record<string, unknown> {
  if (body.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(body);
    const attributes = (parsed as { attributes?: unknown } | null)?.attributes;
    if (attributes === undefined) return {};
    if (typeof attributes === 'object' && attributes !== null && !Array.isArray(attributes)) return attributes as Record<string, unknown>;
  } catch {
    // reported below
  }
  req.log.warn({ body: body.slice(0, 200) }, 'auth hook admitted with a body that is not {"attributes": {...}}; attributes ignored');
  return {};
}

function headerNames(where: string, value: unknown): readonly string[] {
  if (!Array.isArray(value)) throw invalidOption(where, 'expected a list of header names, e.g. ["X-Forwarded-For"]');
  return value.map((name: unknown, i) => headerName(`${where}[${i}]`, String(name)));
}

function urlOption(value: unknown): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw invalidOption('authHook().url', `expected an http or https URL such as http://127.0.0.1:3000/connect, got ${JSON.stringify(value)}`);
  }
  return url;
}
