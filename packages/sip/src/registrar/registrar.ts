import { type Connection, type Logger, MemoryStore, silentLogger, type Store } from '@wsgate/core';
import { STORE_RETRY_AFTER } from '@wsgate/routes';
import { readFrame, type FrameStats } from '../frame.js';
import type { SipRequest } from '../message.js';
import { createResponse } from '../respond.js';
import { serialize } from '../serialize.js';
import { aorKey, type Binding, flowConnectionId, loadBindings, parseBindings, updateBindings } from './bindings.js';
import { Readings } from './readings.js';
import { HttpDate } from './http-date.js';
import { applyRegister, listContacts, planRegister, type RegisterLimits, type Refusal } from './register.js';
import type { SipMetrics } from '../observe/sip-metrics.js';
import type { SipAuthenticator } from '../auth/authenticator.js';

export interface RegistrarOptions {
  /** the domains (hosts) this registrar keeps bindings for, e.g. `example.com` */
  domains: string | readonly string[];
  /** where bindings live; default a MemoryStore of this process */
  store?: Store;
  /** shortest registration accepted, seconds (shorter: 423 with Min-Expires); default 60 */
  minExpires?: number;
  /** longest registration granted, seconds (longer is cut to it); default 3600 */
  maxExpires?: number;
  /** when neither the Contact nor an Expires header says, seconds; default 3600 */
  defaultExpires?: number;
  /** bindings per AOR (more: 403); default 16 */
  maxBindings?: number;
  /** this gateway's name in flow ids (`<node>/<connection id>`), for a store several gateways share; default `local` */
  node?: string;
  /** Store key prefix; default `wsgate:sip:reg:` */
  prefix?: string;
  /** seconds between sweeps of lapsed bindings; default 30 */
  sweepInterval?: number;
  /** AORs a sweep examines at most; default 256 */
  sweepBatch?: number;
  /** counts what the registrar reads and answers, and feeds `wsgate_sip_registrations` (`sipMetrics(gateway)`) */
  metrics?: SipMetrics;
  /** REGISTER outcomes at debug, refusals at info, each with callId, aor and conn; default none */
  logger?: Logger;
  /** authenticates every REGISTER ('www': 401 challenges) before anything else, e.g. `sipDigest({ realm, file })`; default none */
  auth?: SipAuthenticator;
}

/** A binding as a proxy needs it: where to send (the flow's connection) and what to put in the Request-URI. */
export interface Registration extends Binding {
  /** the connection id of the flow, when the flow is on this gateway */
  readonly connectionId: number | undefined;
}

/** Which of this node's bindings `list()` returns; the filters combine. */
export interface RegistrationFilter {
  /** one AOR (`sip:alice@example.com`; To/Request-URI forms are canonicalised) */
  readonly aor?: string;
  /** the user part of the AOR, exactly (`alice`) */
  readonly user?: string;
  /** the connection id of the flow */
  readonly connectionId?: number;
}

/** A binding `list()` returns: with its AOR. */
export interface ListedRegistration extends Registration {
  readonly aor: string;
}

export interface Registrar {
  /** Answers a parsed REGISTER on `conn` (the flow) and sends the response; resolves when the bindings are stored. */
  register(conn: Connection, request: SipRequest): Promise<void>;
  /** The live bindings of an AOR (`sip:alice@example.com`; To/Request-URI forms are canonicalised), best q first. */
  lookup(aor: string): Promise<Registration[]>;
  /** The bindings on this node's flows (`wsgate ctl registrations`), by AOR then contact. */
  list(filter?: RegistrationFilter): Promise<ListedRegistration[]>;
  /** Drops every binding registered over `conn`: call from `websocket:closed`. */
  connectionClosed(conn: Connection): Promise<void>;
  /** Route handlers to spread into `defineRoutes` for a registrar-only endpoint; other methods get 405. */
  readonly routes: {
    'websocket:message': (conn: Connection, data: Buffer) => Promise<void> | void;
    'websocket:closed': (conn: Connection) => Promise<void>;
    'routes:close': () => void;
  };
  /** One bounded sweep now (the timer calls it); resolves to the bindings dropped. */
  sweep(): Promise<number>;
  /** Stops the sweep timer. */
  close(): void;
  /** frames read (FrameStats), REGISTERs answered, refused, bindings the sweep found lapsed, and bindings on this node's flows now */
  readonly stats: FrameStats & { registers: number; refused: number; lapsed: number; bindings: number };
}

/** A flow among the bindings. */
function hasFlow(bindings: readonly Binding[], flow: string): boolean {
  for (const b of bindings) if (b.flow === flow) return true;
  return false;
}

/** `sip:user@host` with the host in lower case and nothing after it: what canonicalAor() would return unchanged. */
function isCanonicalAor(aor: string): boolean {
  if (!aor.startsWith('sip:')) return false;
  const at = aor.indexOf('@', 4);
  if (at <= 4 || at + 1 === aor.length) return false;
  for (let i = 4; i < at; i++) {
    const c = aor.charCodeAt(i);
    if (c === 59 || c === 63 || c === 62) return false; // ; ? >
  }
  for (let i = at + 1; i < aor.length; i++) {
    const c = aor.charCodeAt(i);
    if (c === 59 || c === 63 || c === 62 || c === 58 || (c >= 65 && c <= 90) || c >= 128) return false; // ; ? > : upper case, and beyond ASCII
  }
  return true;
}

/** AORs whose last reading `lookup()` keeps (past it, the oldest reading goes). */
const MAX_READINGS = 10_000;

/** An RFC 3261 §10 registrar with RFC 5626 outbound flows over WebSocket (RFC 7118 §5); REGISTERs authenticated by `auth` when given. */
export function registrar(options: RegistrarOptions): Registrar {
  const domains = new Set((typeof options.domains === 'string' ? [options.domains] : options.domains).map((d) => d.toLowerCase()));
  if (domains.size === 0) throw new TypeError('registrar: domains must name at least one domain (e.g. "example.com")');
  const limits: RegisterLimits = {
    domains,
    minExpires: options.minExpires ?? 60,
    maxExpires: options.maxExpires ?? 3600,
    defaultExpires: options.defaultExpires ?? 3600,
    maxBindings: options.maxBindings ?? 16,
  };
  if (limits.minExpires > limits.maxExpires) throw new TypeError('registrar: minExpires must not exceed maxExpires');
  const store = options.store ?? new MemoryStore();
  const node = options.node ?? 'local';
  const prefix = options.prefix ?? 'wsgate:sip:reg:';
  const batch = options.sweepBatch ?? 256;
  const stats = { messages: 0, answered: 0, dropped: 0, keepalives: 0, registers: 0, refused: 0, lapsed: 0, bindings: 0 };
  const metrics = options.metrics;
  const log = (options.logger ?? silentLogger).child({ module: 'registrar' });

  // This process's flows and the AORs each registered: what a close must clean and what a sweep visits.
  const flows = new Map<number, Set<string>>();
  const known = new Set<string>();
  // Connections closed whose bindings are being removed: lookups skip them at once.
  const gone = new Set<string>();
  // One REGISTER (or cleanup) per AOR at a time in this process; across gateways, compare-and-set (bindings.ts).
  const queues = new Map<string, Promise<unknown>>();
  const serial = async <T>(aor: string, step: () => Promise<T>): Promise<T> => {
    // nothing queued for this AOR (the usual case): start now rather than a microtask later
    const before = queues.get(aor);
    const run = before === undefined ? step() : before.then(step, step);
    queues.set(aor, run);
    try {
      return await run;
    } finally {
      // the last in the queue takes it down: one async frame, not a chain of promises and callbacks per step
      if (queues.get(aor) === run) queues.delete(aor);
    }
  };
  const flowOf = (conn: Connection) => `${node}/${conn.id}`;
  const local = `${node}/`;
  // Bindings on this node's flows per AOR, as last stored: stats.bindings (the registrations gauge) without a store read.
  const localCounts = new Map<string, number>();
  const countLocal = (aor: string, bindings: readonly Binding[]) => {
    let n = 0;
    for (const b of bindings) if (b.flow.startsWith(local)) n++;
    stats.bindings += n - (localCounts.get(aor) ?? 0);
    if (n === 0) localCounts.delete(aor);
    else localCounts.set(aor, n);
  };
  const gauge = metrics?.readRegistrations(() => stats.bindings);
  // What this registrar last read or wrote under each AOR: the next REGISTER's read of the same text needs no JSON.parse.
  const stored = new Readings(MAX_READINGS, parseBindings);
  const date = new HttpDate();

  const answer = (conn: Connection, request: SipRequest, status: number, reason: string, headers: ReadonlyArray<readonly [string, string]> = []) => {
    metrics?.response(status);
    conn.send(serialize(createResponse(request, status, reason, { headers })), { binary: false });
  };
  const refuse = (conn: Connection, request: SipRequest, r: Refusal, aor?: string) => {
    stats.refused++;
    // a 401 challenge is the first step of every authenticated registration: debug, as the 200 is
    const level = r.status === 401 ? 'debug' : 'info';
    if (log.isLevelEnabled(level)) {
      // before the AOR is known (a foreign domain, a bad To), the To header as written says who asked
      const who = aor === undefined ? { to: request.headers.get('to') } : { aor };
      log[level]({ callId: request.callId, ...who, conn: conn.id, status: r.status, reason: r.reason }, level === 'debug' ? 'REGISTER challenged' : 'REGISTER refused');
    }
    answer(conn, request, r.status, r.reason, r.headers);
  };

  async function register(conn: Connection, request: SipRequest): Promise<void> {
    stats.registers++;
    if (options.auth !== undefined) {
      const verdict = await options.auth.authenticate(conn, request, 'www');
      if ('status' in verdict) return refuse(conn, request, verdict);
    }
    let plan;
    try {
      plan = planRegister(request, limits);
    } catch (e) {
      // a Contact or Expires that does not parse: the parser's fault as the reason
      return refuse(conn, request, { status: 400, reason: e instanceof Error ? e.message : String(e) });
    }
    if (!('aor' in plan)) return refuse(conn, request, plan);
    const p = plan;
    const flow = flowOf(conn);
    const key = aorKey(prefix, p.aor);
    let result;
    try {
      result = await serial(p.aor, async () => {
        const done = await updateBindings(store, key, stored, (live, now) => {
          const next = applyRegister(p, live, now, flow, limits.maxBindings);
          return Array.isArray(next) ? { bindings: next, write: p.contacts.length > 0 || p.wildcard } : next;
        });
        if ('bindings' in done) countLocal(p.aor, done.bindings);
        return done;
      });
    } catch {
      // the store failed (Redis out of reach): 503 and Retry-After, the UA retries; nothing half-written, one key per AOR
      return refuse(conn, request, { status: 503, reason: 'registrar store unavailable', headers: [['Retry-After', String(STORE_RETRY_AFTER)]] }, p.aor);
    }
    if (!('bindings' in result)) return refuse(conn, request, result, p.aor);
    if (hasFlow(result.bindings, flow)) {
      known.add(p.aor);
      let aors = flows.get(conn.id);
      if (aors === undefined) flows.set(conn.id, (aors = new Set()));
      aors.add(p.aor);
      // the connection closed while the REGISTER was being stored: its close route may have run already
      if (conn.state === 'closing' || conn.state === 'closed') void connectionClosed(conn).catch(() => undefined);
    }
    const headers: Array<readonly [string, string]> = [];
    for (const c of listContacts(result.bindings, result.now)) headers.push(['Contact', c]);
    if (p.outbound) headers.push(['Require', 'outbound']);
    headers.push(['Supported', 'outbound'], ['Date', date.at(result.now)]);
    if (log.isLevelEnabled('debug')) log.debug({ callId: request.callId, aor: p.aor, conn: conn.id, status: 200, bindings: result.bindings.length }, 'REGISTER');
    answer(conn, request, 200, 'OK', headers);
  }

  // Each AOR's stored list as lookup() hands it out, best q first (a stable sort: equal q in stored order), with
  // this node's connection ids; parsed again only once a REGISTER changed it, here or on another gateway.
  const routable = new Readings(MAX_READINGS, (text): readonly Registration[] =>
    (JSON.parse(text) as Binding[])
      .sort((a, b) => (b.q ?? 1) - (a.q ?? 1))
      .map((b): Registration => Object.freeze({ ...b, connectionId: b.flow.startsWith(local) ? Number(b.flow.slice(local.length)) : undefined })),
  );

  async function lookup(aor: string): Promise<Registration[]> {
    const key = aorKey(prefix, canonicalAor(aor));
    const text = await store.get(key);
    if (text === undefined) {
      routable.forget(key);
      return [];
    }
    const now = Date.now();
    // lapsed bindings left out as loadBindings() does, and the flows of connections being closed
    return routable.read(key, text).filter((b) => b.expiresAt > now && !gone.has(b.flow));
  }

  async function list(filter: RegistrationFilter = {}): Promise<ListedRegistration[]> {
    const aor = filter.aor === undefined ? undefined : canonicalAor(filter.aor);
    // the fewest AORs to read: the connection's, the one asked for, else every one this node registered
    const aors = filter.connectionId !== undefined ? [...(flows.get(filter.connectionId) ?? [])] : aor !== undefined ? [aor] : [...known];
    const now = Date.now();
    const out: ListedRegistration[] = [];
    for (const a of aors) {
      if ((aor !== undefined && a !== aor) || (filter.user !== undefined && a.slice(a.indexOf(':') + 1, a.lastIndexOf('@')) !== filter.user)) continue;
      for (const b of await loadBindings(store, aorKey(prefix, a), now)) {
        // this process's flows only: another gateway (or worker) sharing the store lists its own
        const connectionId = flowConnectionId(b.flow);
        if (!flows.has(connectionId) || gone.has(b.flow)) continue;
        if (filter.connectionId === undefined || connectionId === filter.connectionId) out.push({ ...b, aor: a, connectionId });
      }
    }
    return out.sort((x, y) => (x.aor < y.aor ? -1 : x.aor > y.aor ? 1 : x.contact < y.contact ? -1 : x.contact > y.contact ? 1 : 0));
  }

  async function connectionClosed(conn: Connection): Promise<void> {
    const aors = flows.get(conn.id);
    flows.delete(conn.id);
    if (aors === undefined) return;
    const flow = flowOf(conn);
    gone.add(flow);
    try {
      await Promise.all(
        [...aors].map((aor) =>
          serial(aor, async () => {
            const done = await updateBindings(store, aorKey(prefix, aor), stored, (live) => {
              const after = live.filter((b) => b.flow !== flow);
              return { bindings: after, write: after.length !== live.length };
            });
            countLocal(aor, done.bindings);
          }),
        ),
      );
    } finally {
      gone.delete(flow);
    }
  }

  // Bounded periodic sweep, round-robin over the AORs this process registered: no timer per binding.
  let cursor: Iterator<string> = known.values();
  async function sweep(): Promise<number> {
    let dropped = 0;
    for (let i = 0; i < Math.min(batch, known.size); i++) {
      let step = cursor.next();
      if (step.done) step = (cursor = known.values()).next();
      if (step.done) break;
      const aor = step.value;
      dropped += await serial(aor, async () => {
        // no change but the lapsed ones, which updateBindings writes out
        const done = await updateBindings(store, aorKey(prefix, aor), stored, (live) => ({ bindings: live, write: false }));
        countLocal(aor, done.bindings);
        if (!done.bindings.some((b) => b.flow.startsWith(local))) known.delete(aor);
        return done.lapsed;
      });
    }
    stats.lapsed += dropped;
    return dropped;
  }
  const timer = setInterval(() => void sweep().catch(() => undefined), (options.sweepInterval ?? 30) * 1000);
  timer.unref();

  function canonicalAor(aor: string): string {
    if (isCanonicalAor(aor)) return aor; // as the proxy and the registrar write it: `sip:user@host`
    const m = /^sips?:([^@;?>]+)@([^;?>:]+)/i.exec(aor.replace(/^</, ''));
    return m === null ? aor : `sip:${m[1]}@${m[2]!.toLowerCase()}`;
  }

  const routes = {
    'websocket:message'(conn: Connection, data: Buffer): Promise<void> | void {
      const r = readFrame(data, undefined, stats);
      if (r.kind === 'answer') metrics?.response(r.error.status);
      else if (r.kind === 'drop') metrics?.dropped('malformed');
      if (r.kind === 'answer' || (r.kind === 'keepalive' && r.reply)) return void conn.send(r.reply!, { binary: false });
      if (r.kind !== 'message') return;
      if (r.message.kind !== 'request') return void metrics?.dropped('stray-response');
      metrics?.request(r.message.method);
      if (r.message.method === 'ACK') return;
      if (r.message.method === 'REGISTER') return register(conn, r.message);
      answer(conn, r.message, 405, 'Method Not Allowed', [['Allow', 'REGISTER']]);
    },
    'websocket:closed': (conn: Connection) => connectionClosed(conn),
    'routes:close': () => close(),
  };
  function close(): void {
    clearInterval(timer);
    gauge?.remove();
    routable.clear();
    stored.clear();
  }
  return { register, lookup, list, connectionClosed, routes, sweep, close, stats };
}
