import { type Connection, type Gateway, type GaugeHandle, type Logger, MemoryStore, randomHex, type Store, type ViewHandle } from '@wsgate/core';
import { readFrame, type FrameStats } from './frame.js';
import { ParseError, type SipRequest, type SipResponse } from './message.js';
import type { ParseOptions } from './parse.js';
import { createResponse, errorResponse } from './respond.js';
import { serialize } from './serialize.js';
import type { SipAuthenticator } from './auth/authenticator.js';
import { registrationsView } from './observe/registrations-view.js';
import { sipMetrics, type SipMetrics } from './observe/sip-metrics.js';
import { type Flow, localFlow, remoteFlow } from './proxy/flow.js';
import { BRANCH_PREFIX, sipProxy, type SipProxy } from './proxy/proxy.js';
import { flowConnectionId } from './registrar/bindings.js';
import { registrar, type Registrar, type RegistrarOptions } from './registrar/registrar.js';

export interface SipServiceOptions {
  /** the SIP domains served, e.g. `example.com`: their REGISTERs are kept, their AORs' requests routed */
  domains: string | readonly string[];
  /**
   * The gateway (the route factory's `gateway`): gives the service its metrics (`wsgate_sip_*`), the
   * `wsgate ctl registrations` view and, unless given here, its logger and its store (`gateway.store`: the
   * config's Redis, shared by every gateway, or this process's memory).
   */
  gateway?: Pick<Gateway, 'metrics' | 'views' | 'connections' | 'logger' | 'store' | 'node'>;
  /** SIP digest (`sipDigest()`): REGISTER challenged with 401, new dialogs and out-of-dialog requests with 407 */
  auth?: SipAuthenticator;
  /** known users, for 404 (unknown) rather than 480 (known, not registered); default: those `auth` knows, else every user */
  users?: (user: string) => boolean | Promise<boolean>;
  /** where bindings live; default `gateway.store`, else a MemoryStore of this process */
  store?: Store;
  logger?: Logger;
  /**
   * this gateway's name in flow ids (`<node>/<connection id>`); default `gateway.node` (the config's `node.name`
   * with `store.redis`, so that gateways sharing a store tell their bindings apart), else `local`
   */
  node?: string;
  /** the proxy's host name in its Via and Record-Route; default the first domain */
  host?: string;
  /**
   * The flow tokens' HMAC key: the same on gateways that see one dialog. Default: one made once and kept in
   * the store (`wsgate:sip:flow-key`), so gateways sharing a store share it.
   */
  secret?: string;
  /** registrar settings (expiry limits, bindings per AOR, sweep) */
  registrar?: Omit<RegistrarOptions, 'domains' | 'store' | 'node' | 'auth' | 'logger'>;
  /** Timer C, seconds; default 180 */
  inviteTimeout?: number;
  /** Timer F, seconds; default 32 */
  requestTimeout?: number;
  /** proxy transactions open at once per connection (more: 503); default 64 */
  maxTransactions?: number;
  /** largest SIP message accepted, bytes (larger: 513); default the parser's 64 KiB */
  maxMessageSize?: number;
}

export interface SipService {
  /** spread into `defineRoutes` beside an `http:request` route that hands the `sip` subprotocol its WebSockets */
  readonly routes: {
    'websocket:message': (conn: Connection, data: Buffer) => Promise<void> | void;
    'websocket:closed': (conn: Connection) => Promise<void>;
    'routes:close': () => void;
  };
  readonly registrar: Registrar;
  readonly proxy: SipProxy;
  /** frames read: messages, answered with 400/513, dropped, CRLF keep-alives */
  readonly frames: FrameStats;
  close(): void;
}

const FLOW_KEY = 'wsgate:sip:flow-key';

/** The `post()` topic of SIP responses between gateways. */
const POST_TOPIC = 'wsgate:sip:response';

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, REGISTER, SUBSCRIBE, NOTIFY, REFER, INFO, UPDATE, PRACK';

/**
 * Kamailio's SIP side for phones on WebSockets, as one route module: a registrar (RFC 3261 §10, RFC 5626
 * outbound) and a stateful proxy (§16) between the phones registered with it, over the `sip` subprotocol
 * (RFC 7118), with SIP digest when `auth` is given. Each WebSocket message is one SIP message; a double CRLF
 * is answered as a keep-alive (RFC 5626 §3.5.1).
 */
export function sipService(options: SipServiceOptions): SipService {
  const domains = new Set((typeof options.domains === 'string' ? [options.domains] : options.domains).map((d) => d.toLowerCase()));
  const gateway = options.gateway;
  const node = options.node ?? gateway?.node ?? 'local';
  const store = options.store ?? gateway?.store ?? new MemoryStore();
  const log = options.logger ?? gateway?.logger;
  const metrics: SipMetrics | undefined = gateway === undefined ? undefined : sipMetrics(gateway);
  const reg = registrar({
    ...options.registrar,
    domains: [...domains],
    store,
    node,
    ...(options.auth !== undefined ? { auth: options.auth } : {}),
    ...(log !== undefined ? { logger: log } : {}),
    ...(metrics !== undefined ? { metrics } : {}),
  });
  const host = options.host ?? [...domains][0]!;
  const viaHost = host.toLowerCase();
  const parse: ParseOptions = options.maxMessageSize === undefined ? {} : { maxMessageSize: options.maxMessageSize };
  const frames: FrameStats = { messages: 0, answered: 0, dropped: 0, keepalives: 0 };

  // This process's SIP WebSockets by id; other gateways' are reached through the shared directory, where
  // connection ids are unique across nodes.
  const conns = new Map<number, Flow>();
  const local = `${node}/`;
  const directory = gateway?.connections;
  const connection = (flow: string): Flow | undefined => {
    // `<node>/<connection id>`: with a shared directory ids are unique across nodes, so the id alone finds it
    const id = flowConnectionId(flow);
    if (!Number.isSafeInteger(id)) return undefined;
    if (directory === undefined && !flow.startsWith(local)) return undefined;
    return conns.get(id) ?? (directory === undefined ? undefined : remoteFlow(id, directory));
  };

  const proxy = sipProxy(
    {
      domains,
      registrar: reg,
      node,
      host,
      connection,
      auth: options.auth,
      users: options.users ?? (options.auth?.knows === undefined ? undefined : (user: string) => options.auth!.knows!(user)),
      secret: options.secret ?? (() => sharedKey(store)),
      inviteTimeout: options.inviteTimeout,
      requestTimeout: options.requestTimeout,
      maxTransactions: options.maxTransactions,
      logger: log,
      metrics,
    },
    here,
  );
  const observed: Array<GaugeHandle | ViewHandle> = [];
  if (gateway !== undefined && metrics !== undefined) {
    observed.push(metrics.readTransactions(() => proxy.transactions), registrationsView(gateway, reg));
  }

  /** Requests for this server itself: REGISTER to the registrar, OPTIONS answered (a phone's keep-alive or probe). */
  function here(conn: Connection, request: SipRequest): Promise<void> | void {
    if (request.method === 'REGISTER') return reg.register(conn, request);
    const status = request.method === 'OPTIONS' ? 200 : 405;
    metrics?.response(status);
    const response = createResponse(request, status, status === 200 ? 'OK' : 'Method Not Allowed', {
      headers: [['Allow', ALLOW], ['Accept', 'application/sdp'], ['Supported', 'outbound, path']],
    });
    conn.send(serialize(response), { binary: false });
  }

  function refuseLate(conn: Connection, error: unknown): void {
    // a header read only when needed (Route, Contact, credentials) turned out malformed: 400 naming it
    if (error instanceof ParseError) {
      const response = errorResponse(error);
      if (response !== undefined && conn.state === 'open') {
        metrics?.response(response.status);
        conn.send(serialize(response), { binary: false });
      } else {
        frames.dropped++;
        metrics?.dropped('malformed');
      }
      return;
    }
    log?.error({ err: error, connection: conn.id }, 'SIP message handling failed');
  }

  /**
   * A response to a request another process's proxy sent (the callee's WebSocket is here, the caller's there):
   * this proxy's Via names the caller's connection (`tx`), and the process holding it runs the transaction.
   */
  function toItsTransaction(conn: Connection, response: SipResponse, data: Buffer): void {
    const top = response.topVia;
    const tx = top.params.get('tx');
    const id = tx === undefined || tx === null ? NaN : Number(tx);
    if (directory === undefined || !Number.isSafeInteger(id) || conns.has(id) || top.host.toLowerCase() !== viaHost || !top.branch?.startsWith(BRANCH_PREFIX)) {
      metrics?.dropped('stray');
      return;
    }
    void Promise.resolve(directory.post(id, POST_TOPIC, JSON.stringify({ from: conn.id, message: data.toString('utf8') }))).then(
      (taken) => taken || metrics?.dropped('stray'),
      (err: unknown) => log?.warn({ err, callId: response.callId }, 'SIP response could not reach the gateway running its transaction'),
    );
  }

  // What other gateways post here: responses to this process's transactions, received over their WebSockets.
  const unlisten = directory?.listen(POST_TOPIC, (text) => {
    let posted: { from: number; message: string };
    try {
      posted = JSON.parse(text) as { from: number; message: string };
    } catch {
      return;
    }
    const r = readFrame(posted.message, parse);
    if (r.kind === 'message' && r.message.kind === 'response' && !proxy.response(posted.from, r.message)) metrics?.dropped('stray');
  });

  const routes = {
    'websocket:message'(conn: Connection, data: Buffer): Promise<void> | void {
      // one Flow per WebSocket, made at its first message: the proxy looks flows up on every request
      if (!conns.has(conn.id)) conns.set(conn.id, localFlow(conn));
      const r = readFrame(data, parse, frames);
      if (r.kind === 'keepalive') return void (r.reply !== undefined && conn.send(r.reply, { binary: false }));
      if (r.kind === 'answer') {
        metrics?.response(r.error.status);
        return void conn.send(r.reply, { binary: false });
      }
      if (r.kind === 'drop') return metrics?.dropped('malformed');
      try {
        if (r.message.kind === 'response') {
          if (!proxy.response(conn.id, r.message)) toItsTransaction(conn, r.message, data);
          return;
        }
        metrics?.request(r.message.method);
        return proxy.request(conn, r.message).catch((e: unknown) => refuseLate(conn, e));
      } catch (e) {
        refuseLate(conn, e);
      }
    },
    async 'websocket:closed'(conn: Connection): Promise<void> {
      conns.delete(conn.id);
      proxy.connectionClosed(conn);
      await reg.connectionClosed(conn);
    },
    'routes:close'() {
      close();
    },
  };

  function close(): void {
    unlisten?.();
    for (const handle of observed.splice(0)) handle.remove();
    reg.close();
    proxy.close();
    options.auth?.close();
  }

  return { routes, registrar: reg, proxy, frames, close };
}

/** The flow-token key in the store: the first gateway to ask makes it, every later one reads the same. */
async function sharedKey(store: Store): Promise<string> {
  await store.add(FLOW_KEY, randomHex(32));
  const key = await store.get(FLOW_KEY);
  if (key === undefined) throw new Error(`the store lost ${FLOW_KEY} as soon as it was written`);
  return key;
}
