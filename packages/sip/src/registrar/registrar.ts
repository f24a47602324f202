import { type Connection, MemoryStore, type Store } from '@wsgate/core';
import { readFrame, type FrameStats } from '../frame.js';
import type { SipRequest } from '../message.js';
import { createResponse } from '../respond.js';
import { serialize } from '../serialize.js';
import { aorKey, type Binding, loadBindings, saveBindings } from './bindings.js';
import { applyRegister, listContacts, planRegister, type RegisterLimits, type Refusal } from './register.js';

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
}

/** A binding as a proxy needs it: where to send (the flow's connection) and what to put in the Request-URI. */
export interface Registration extends Binding {
  /** the connection id of the flow, when the flow is on this gateway */
  readonly connectionId: number | undefined;
}

export interface Registrar {
  /** Answers a parsed REGISTER on `conn` (the flow) and sends the response; resolves when the bindings are stored. */
  register(conn: Connection, request: SipRequest): Promise<void>;
  /** The live bindings of an AOR (`sip:alice@example.com`; To/Request-URI forms are canonicalised), best q first. */
  lookup(aor: string): Promise<Registration[]>;
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
  /** frames read (FrameStats), REGISTERs answered, refused, and bindings the sweep found lapsed */
  readonly stats: FrameStats & { registers: number; refused: number; lapsed: number };
}

/** An RFC 3261 §10 registrar with RFC 5626 outbound flows over WebSocket (RFC 7118 §5). No authentication yet. */
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
  const stats = { messages: 0, answered: 0, dropped: 0, keepalives: 0, registers: 0, refused: 0, lapsed: 0 };

  // This process's flows and the AORs each registered: what a close must clean and what a sweep visits.
  const flows = new Map<number, Set<string>>();
  const known = new Set<string>();
  // Connections closed whose bindings are being removed: lookups skip them at once.
  const gone = new Set<string>();
  // One REGISTER (or cleanup) per AOR at a time in this process: the store has no compare-and-set.
  const queues = new Map<string, Promise<unknown>>();
  const serial = <T>(aor: string, step: () => Promise<T>): Promise<T> => {
    const run = (queues.get(aor) ?? Promise.resolve()).then(step, step);
    const tail = run.catch(() => undefined);
    queues.set(aor, tail);
    void tail.then(() => queues.get(aor) === tail && queues.delete(aor));
    return run;
  };
  const flowOf = (conn: Connection) => `${node}/${conn.id}`;
  const local = `${node}/`;

  const answer = (conn: Connection, request: SipRequest, status: number, reason: string, headers: Array<readonly [string, string]> = []) => {
    conn.send(serialize(createResponse(request, status, reason, { headers })), { binary: false });
  };
  const refuse = (conn: Connection, request: SipRequest, r: Refusal) => {
    stats.refused++;
    answer(conn, request, r.status, r.reason, [...(r.headers ?? [])]);
  };

  async function register(conn: Connection, request: SipRequest): Promise<void> {
    stats.registers++;
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
        const now = Date.now();
        const next = applyRegister(p, await loadBindings(store, key, now), now, flow, limits.maxBindings);
        if (!Array.isArray(next)) return next;
        if (p.contacts.length > 0 || p.wildcard) await saveBindings(store, key, next, now);
        return { bindings: next, now };
      });
    } catch {
      // the store failed (a Redis outage later): the UA retries; nothing half-written, one key per AOR
      return refuse(conn, request, { status: 500, reason: 'registrar store unavailable' });
    }
    if (!('bindings' in result)) return refuse(conn, request, result);
    if (result.bindings.some((b) => b.flow === flow)) {
      known.add(p.aor);
      let aors = flows.get(conn.id);
      if (aors === undefined) flows.set(conn.id, (aors = new Set()));
      aors.add(p.aor);
      // the connection closed while the REGISTER was being stored: its close route may have run already
      if (conn.state === 'closing' || conn.state === 'closed') void connectionClosed(conn).catch(() => undefined);
    }
    const headers: Array<readonly [string, string]> = listContacts(result.bindings, result.now).map((c) => ['Contact', c]);
    if (p.outbound) headers.push(['Require', 'outbound']);
    headers.push(['Supported', 'outbound'], ['Date', new Date(result.now).toUTCString()]);
    answer(conn, request, 200, 'OK', headers);
  }

  async function lookup(aor: string): Promise<Registration[]> {
    const canonical = canonicalAor(aor);
    const now = Date.now();
    const all = await loadBindings(store, aorKey(prefix, canonical), now);
    return all
      .filter((b) => !gone.has(b.flow))
      .sort((a, b) => (b.q ?? 1) - (a.q ?? 1))
      .map((b) => ({ ...b, connectionId: b.flow.startsWith(local) ? Number(b.flow.slice(local.length)) : undefined }));
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
            const key = aorKey(prefix, aor);
            const now = Date.now();
            const before = await loadBindings(store, key, now);
            const after = before.filter((b) => b.flow !== flow);
            if (after.length !== before.length) await saveBindings(store, key, after, now);
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
        const key = aorKey(prefix, aor);
        const now = Date.now();
        const text = await store.get(key);
        const all = text === undefined ? [] : (JSON.parse(text) as Binding[]);
        const live = all.filter((b) => b.expiresAt > now);
        if (live.length !== all.length) await saveBindings(store, key, live, now);
        if (!live.some((b) => b.flow.startsWith(local))) known.delete(aor);
        return all.length - live.length;
      });
    }
    stats.lapsed += dropped;
    return dropped;
  }
  const timer = setInterval(() => void sweep().catch(() => undefined), (options.sweepInterval ?? 30) * 1000);
  timer.unref();

  function canonicalAor(aor: string): string {
    const m = /^sips?:([^@;?>]+)@([^;?>:]+)/i.exec(aor.replace(/^</, ''));
    return m === null ? aor : `sip:${m[1]}@${m[2]!.toLowerCase()}`;
  }

  const routes = {
    'websocket:message'(conn: Connection, data: Buffer): Promise<void> | void {
      const r = readFrame(data, undefined, stats);
      if (r.kind === 'answer' || (r.kind === 'keepalive' && r.reply)) return void conn.send(r.reply!, { binary: false });
      if (r.kind !== 'message' || r.message.kind !== 'request' || r.message.method === 'ACK') return;
      if (r.message.method === 'REGISTER') return register(conn, r.message);
      answer(conn, r.message, 405, 'Method Not Allowed', [['Allow', 'REGISTER']]);
    },
    'websocket:closed': (conn: Connection) => connectionClosed(conn),
    'routes:close': () => clearInterval(timer),
  };
  return { register, lookup, connectionClosed, routes, sweep, close: () => clearInterval(timer), stats };
}
