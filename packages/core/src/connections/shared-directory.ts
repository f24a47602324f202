/**
 * The connection directory shared by several gateways through Redis (`store.redis` in the config): every node
 * writes its connections to Redis and renews them with a heartbeat; any node lists every node's, and acts on
 * another node's (close, ping, send) by a command over pub/sub to the process that holds it.
 *
 * In Redis (under `<store.redis.prefix>wsgate:dir:`), per gateway process (node number k, worker w):
 * `conns:<k>:<w>`, a hash of connection id → JSON record (remote-entry.ts), written as connections open and
 * close, batched: every `FLUSH_TICK_MS` (10 ms) while some are pending, one script call (write-records.ts)
 * writes the opens at least a tick old and deletes the closes (all at once when `FLUSH_BATCH` are pending);
 * a connection that closes younger than a tick is never written. So a connection is listed on every node
 * within `FLUSH_WINDOW_MS` (20 ms) and a Redis round trip of its open, and gone from the listings within a
 * tick and a round trip of its close. The hash is renewed by the heartbeat,
 * which rewrites the records whose last activity changed; the hash and the node's lease (node-claim.ts)
 * expire `EXPIRY_BEATS` heartbeats after the last one, so a node that dies has its entries gone within
 * 3 × `node.heartbeat` (15 s by default).
 * `members`, the set of `<k>:<w>` to read. Channels `cmd:<k>:<w>` and `reply:<instance>` (directory-commands.ts).
 *
 * Ids stay numbers: `node number × 10¹² + worker × 10⁹ + n` (node-claim.ts). A number is what the directory
 * seam, the management API, `wsgate ctl`, per-client limits and the SIP location service already carry;
 * the node number in it says which process to ask without a lookup, as the worker number does in a cluster.
 *
 * By id, nothing waits for the batch: `close`, `ping`, `send` of another node's id go to its holder at once,
 * and `get` of one not written yet asks the holder. `closeMatching` (token revocation) asks every process to
 * close its own matching connections, listed yet or not.
 *
 * Local fast paths: a connection of this process is found, closed, pinged and sent to in the in-process
 * registry, at once, with no promise and no Redis. `size` and `subscribe` are this process's (the metrics
 * gauge, per-client limits).
 *
 * Redis out of reach: `list` answers this process's connections only (`listReport` says the listing is
 * partial, and why); `get`, `close`, `ping`, `send` of another node's connection reject with
 * `WSGATE_STORE_UNAVAILABLE`. When Redis answers again (the client reconnects by itself), the next heartbeat
 * claims the node's number again and writes all its connections: a Redis restarted empty is filled again
 * within a heartbeat.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { WsgateError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { redactedUrl } from '../store/redis-url.js';
import { makeRedisClient, StoreUnavailableError, UNAVAILABLE_REPLY, type RedisStoreClient } from '../store/redis-store.js';
import type { ConnectionEntry } from './connection-entry.js';
import { DirectoryCommands, type Answer, type Command } from './directory-commands.js';
import type { ConnectionDirectory, ConnectionSubscriber, SubscribeOptions } from './directory.js';
import { CLAIM_NODE, MAX_NODES, NODE_ID_SPAN, WORKER_ID_SPAN, claimAnswer, idHolder } from './node-claim.js';
import type { ConnectionRegistry } from './registry.js';
import { RemoteEntry, recordOf, type ConnectionRecord, type RemoteActions } from './remote-entry.js';

type Client = RedisStoreClient;
type RedisModule = typeof import('@redis/client');

/** A node's entries expire this many heartbeats after its last one. */
const EXPIRY_BEATS = 3;
/** How long a command to another node waits for its answer before failing with WSGATE_NODE_UNANSWERED. */
const REPLY_TIMEOUT_MS = 2000;
/** Default seconds between heartbeats. */
const DEFAULT_HEARTBEAT = 5;
/**
 * Opens and closes are written to Redis in batches, one script call a tick while some are pending, rather
 * than one per turn of the event loop that opened or closed a connection (a node would write at the rate of
 * its handshakes). An open is written at the first tick at which it is a tick old: a connection that lasts
 * less is never written (a short-lived one costs Redis nothing), and one that lasts is written within
 * `FLUSH_WINDOW_MS`.
 */
export const FLUSH_TICK_MS = 10;
/** A connection is in Redis, so listed on every node, within this long (and a Redis round trip) of its open. */
export const FLUSH_WINDOW_MS = 2 * FLUSH_TICK_MS;
/** Pending opens and closes written at once, before the tick: a batch stays one modest script call. */
export const FLUSH_BATCH = 500;

export interface SharedDirectoryOptions {
  /** As `store.redis` has them. */
  readonly url: string;
  readonly prefix?: string;
  readonly connectTimeout?: number;
  readonly commandTimeout?: number;
  readonly onUnavailable?: 'fail' | 'degraded';
  /** This gateway's name among the nodes: unique per gateway sharing the Redis. Default the host name. */
  readonly node?: string;
  /**
   * The gateway's RedisStore's client (`RedisStore.connection()`), connected before `start()`: the directory
   * sends its commands on that connection, so that a turn's store calls and directory writes leave in one
   * write to Redis. Its pub/sub still has a connection of its own. Absent (or undefined): a client of its own.
   */
  readonly connection?: () => RedisStoreClient | undefined;
  /** Seconds between heartbeats; entries of a node that stops expire after 3 of them. Default 5. */
  readonly heartbeat?: number;
  /** This process's worker number in a cluster (0 alone). */
  readonly worker?: number;
  readonly logger: Logger;
}

/** What `listReport()` answers: the entries, and why it is partial when it is. */
export interface DirectoryListing {
  readonly entries: readonly ConnectionEntry<any>[];
  /** Set when other nodes' connections could not be read (Redis out of reach): only this process's are in. */
  readonly partial?: string;
}

export class SharedDirectory implements ConnectionDirectory {
  /** This gateway's node name. */
  readonly node: string;
  /** The URL without its password. */
  readonly url: string;
  private readonly worker: number;
  private readonly heartbeatMs: number;
  private readonly keys: string;
  private readonly instance = randomBytes(8).toString('hex');
  private readonly logger: Logger;
  private redis!: RedisModule;
  private client: Client | undefined;
  /** The client is the store's (`options.connection`): not connected nor closed here. */
  private sharesClient = false;
  private clientListeners: { error: (err: unknown) => void; ready: () => void } | undefined;
  /** Beats once the subscriber is back too, when a write is owed: the client's own return may come first. */
  private readonly subscriberReady = () => {
    if (this.timer && this.rewriteAll) void this.beat();
  };
  private subscriber: Client | undefined;
  private commands: DirectoryCommands | undefined;
  /** The node number leased in Redis; 0 until it is. */
  private number = 0;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  /** Write every record at the next beat (after a failed write, a reconnection, at start). */
  private rewriteAll = true;
  /** Each written record's last activity: the heartbeat rewrites those that changed. */
  private readonly written = new Map<number, number>();
  private readonly opened = new Map<number, ConnectionEntry<any>>();
  private readonly closed = new Set<number>();
  /** The next tick: the pending closes, and the opens a tick old, are written then. */
  private flushTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private downSince: number | undefined;
  private closing = false;
  private readonly remoteActions: RemoteActions;
  /** Node names by number, as records read say: what names a node that does not answer (its lease may be gone). */
  private readonly names = new Map<number, string>();

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly options: SharedDirectoryOptions,
  ) {
    this.node = options.node ?? hostname();
    this.url = redactedUrl(options.url);
    this.worker = options.worker ?? 0;
    this.heartbeatMs = Math.max(50, Math.round((options.heartbeat ?? DEFAULT_HEARTBEAT) * 1000));
    this.keys = `${options.prefix ?? ''}wsgate:dir:`;
    this.logger = options.logger;
    const fireAndLog = (op: string, p: Promise<boolean>) =>
      void p.catch((err: unknown) => this.logger.warn({ err: reasonOf(err), op }, 'connection directory: a command to another node failed'));
    this.remoteActions = {
      close: (r, code, reason) => fireAndLog('close', this.askHolder(r.id, { op: 'close', id: r.id, code, reason }, r)),
      ping: (r) => fireAndLog('ping', this.askHolder(r.id, { op: 'ping', id: r.id }, r)),
      terminate: (r, reason) => fireAndLog('terminate', this.askHolder(r.id, { op: 'terminate', id: r.id, reason }, r)),
    };
  }

  /** Seconds after its last heartbeat within which a stopped node's entries are gone. */
  get expirySeconds(): number {
    return (EXPIRY_BEATS * this.heartbeatMs) / 1000;
  }

  /**
   * Connects to Redis, leases the node number, numbers this process's connections from it, and starts the
   * heartbeat. Call before the listeners accept. Redis out of reach: rejects with `WSGATE_STORE_UNAVAILABLE`,
   * or, with `onUnavailable: degraded`, resolves and goes on trying (connections opened meanwhile keep ids
   * without a node number, found by a search of the nodes' records).
   * @throws {WsgateError} `WSGATE_CONFIG_INVALID` when another live gateway has this node name.
   */
  async start(): Promise<void> {
    if (this.client) throw new WsgateError('WSGATE_API_MISUSE', 'SharedDirectory.start(): called twice');
    this.redis = await import('@redis/client');
    const connectMs = Math.round((this.options.connectTimeout ?? 5) * 1000);
    const commandMs = Math.round((this.options.commandTimeout ?? 1) * 1000);
    const shared = this.options.connection?.();
    const client = shared ?? makeRedisClient(this.redis, this.options.url, connectMs, commandMs);
    const subscriber = client.duplicate();
    this.client = client;
    this.sharesClient = shared !== undefined;
    this.subscriber = subscriber;
    this.clientListeners = {
      error: (err: unknown) => this.wentDown(err),
      // Redis back (perhaps restarted empty): write everything at once rather than at the next beat.
      ready: () => {
        if (this.downSince === undefined) return;
        this.logger.info({ directory: this.url, seconds: (Date.now() - this.downSince) / 1000 }, 'connection directory: Redis reached again');
        this.downSince = undefined;
        this.rewriteAll = true;
        void this.beat();
      },
    };
    client.on('error', this.clientListeners.error);
    client.on('ready', this.clientListeners.ready);
    subscriber.on('error', () => undefined);
    subscriber.on('ready', this.subscriberReady);
    this.commands = new DirectoryCommands(
      {
        publish: (channel, message) => client.publish(channel, message),
        subscribe: (channel, listener) => subscriber.subscribe(channel, listener),
        unsubscribe: (channel) => subscriber.unsubscribe(channel),
      },
      `${this.keys}reply:${this.instance}`,
      REPLY_TIMEOUT_MS,
      (command) => this.runHere(command),
    );
    this.unsubscribe = this.registry.subscribe({
      opened: (entry) => {
        this.opened.set(entry.id, entry);
        this.scheduleFlush();
      },
      closed: (entry) => {
        if (!this.opened.delete(entry.id)) this.closed.add(entry.id);
        this.written.delete(entry.id);
        this.scheduleFlush();
      },
    });
    // A shared client was connected by the store (or is still trying, when it started degraded).
    const clientUp = shared ? (shared.isReady ? Promise.resolve() : Promise.reject(new Error('not reached'))) : client.connect();
    const connected = await withTimeout(Promise.all([clientUp, subscriber.connect()]).then(() => true), connectMs).catch(() => false);
    if (connected) {
      try {
        await this.claim(false);
      } catch (err) {
        await this.stop();
        throw err;
      }
    } else {
      const why = `connection directory: cannot reach Redis at ${this.url}`;
      if (this.options.onUnavailable !== 'degraded') {
        await this.stop();
        throw new StoreUnavailableError(why, { fix: 'start Redis, or fix store.redis.url (or set store.redis.onUnavailable: degraded to start without it)' });
      }
      this.downSince = Date.now();
      this.logger.warn({ directory: this.url }, `${why}; other nodes' connections are out of sight until it is reached`);
    }
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  /** Takes this process's entries out of Redis and lets go (the node's number lease runs out by itself). */
  async stop(): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    // What is pending needs no write: the hash is deleted below (or expires, Redis out of reach).
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.opened.clear();
    this.closed.clear();
    this.unsubscribe?.();
    await this.beating;
    const { client, subscriber } = this;
    if (this.number !== 0 && client?.isReady) {
      const member = `${this.number}:${this.worker}`;
      await client
        .multi()
        .del(`${this.keys}conns:${member}`)
        .del(`${this.keys}member:${member}`)
        .sRem(`${this.keys}members`, member)
        .exec()
        .catch(() => undefined);
    }
    await this.commands?.stop();
    if (client && this.clientListeners) {
      client.off('error', this.clientListeners.error);
      client.off('ready', this.clientListeners.ready);
    }
    for (const c of [subscriber, this.sharesClient ? undefined : client]) {
      if (!c) continue;
      if (c.isReady) await c.close().catch(() => c.destroy());
      else if (c.isOpen) c.destroy();
    }
  }

  get size(): number {
    return this.registry.size;
  }

  subscribe(subscriber: ConnectionSubscriber, options?: SubscribeOptions): () => void {
    return this.registry.subscribe(subscriber, options);
  }

  list(filter?: (entry: ConnectionEntry<any>) => boolean): Promise<readonly ConnectionEntry<any>[]> {
    return this.listReport(filter).then((l) => l.entries);
  }

  /** Every node's connections, oldest first; only this process's, with `partial` saying why, when Redis is out of reach. */
  async listReport(filter?: (entry: ConnectionEntry<any>) => boolean): Promise<DirectoryListing> {
    const local = this.registry.list(filter);
    let remote: RemoteEntry[];
    try {
      remote = (await this.remoteRecords()).map((r) => new RemoteEntry(r, this.remoteActions));
    } catch (err) {
      return { entries: local, partial: `only node ${this.node}'s connections: ${reasonOf(err)}` };
    }
    const entries = [...local, ...(filter ? remote.filter(filter) : remote)].sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
    return { entries };
  }

  /** A connection's summary for listings: another node's as its record says, this node's with its node and user. */
  summary(entry: ConnectionEntry<any>): Record<string, unknown> {
    if (entry instanceof RemoteEntry) return entry.toJSON();
    const user = (entry.attributes as Record<string, unknown>).user;
    return { id: entry.id, node: this.node, ...(typeof user === 'string' ? { user } : {}), ...entry.toJSON() };
  }

  get(id: number): ConnectionEntry<any> | undefined | Promise<ConnectionEntry<any> | undefined> {
    const here = this.registry.get(id);
    if (here || this.isOurs(id)) return here;
    return this.findRecord(id).then((r) => (r ? new RemoteEntry(r, this.remoteActions) : undefined));
  }

  close(id: number, code = 1000, reason = ''): boolean | Promise<boolean> {
    if (this.registry.get(id) || this.isOurs(id)) return this.registry.close(id, code, reason);
    return this.askHolder(id, { op: 'close', id, code, reason });
  }

  ping(id: number): boolean | Promise<boolean> {
    if (this.registry.get(id) || this.isOurs(id)) return this.registry.ping(id);
    return this.askHolder(id, { op: 'ping', id });
  }

  send(id: number, data: string | Buffer, options?: { readonly binary?: boolean }): boolean | Promise<boolean> {
    if (this.registry.get(id) || this.isOurs(id)) return this.registry.send(id, data, options);
    const binary = options?.binary !== undefined ? { binary: options.binary } : {};
    const command: Command =
      typeof data === 'string' ? { op: 'send', id, data, ...binary } : { op: 'send', id, data: data.toString('base64'), base64: true, ...binary };
    return this.askHolder(id, command);
  }

  post(id: number, topic: string, data: string): boolean | Promise<boolean> {
    if (this.registry.get(id) || this.isOurs(id)) return this.registry.post(id, topic, data);
    return this.askHolder(id, { op: 'post', id, topic, data });
  }

  /**
   * Closes every connection, on every node, whose attribute `attribute` is `value`: this process's at once,
   * every other process's by a command to each member (each closes its own, listed yet or not: a connection
   * opened within the last flush window is not yet in Redis). Answers how many were closed. A node that does
   * not answer within 2 s, or Redis out of reach, is logged (as a failed close of another node's connection
   * is) and counts none.
   */
  async closeMatching(attribute: string, value: string | number | boolean, code = 1000, reason = ''): Promise<number> {
    let closed = this.closeMatchingHere(attribute, value, code, reason);
    let members: string[];
    try {
      const client = this.ready();
      const own = `${this.number}:${this.worker}`;
      members = (await this.redisCall(() => client.sMembers(`${this.keys}members`))).filter((m) => m !== own);
    } catch (err) {
      this.logger.warn({ err: reasonOf(err), op: 'closeMatching', attribute }, "connection directory: other nodes' connections not closed");
      return closed;
    }
    const command: Command = { op: 'closeMatching', id: 0, attribute, value, code, reason };
    const counts = await Promise.all(
      members.map((member) => {
        const number = Number(member.split(':')[0]);
        return this.commands!.count(`${this.keys}cmd:${member}`, () => this.nameOf(number), command).catch((err: unknown) => {
          this.logger.warn({ err: reasonOf(err), op: 'closeMatching', attribute }, 'connection directory: a command to another node failed');
          return 0;
        });
      }),
    );
    for (const n of counts) closed += n;
    return closed;
  }

  /** A node's name by its number, for a message about it: known here, else its slot in Redis, else `fallback`. */
  private async nameOf(number: number, fallback = `number ${number}`): Promise<string> {
    const known = this.names.get(number);
    if (known !== undefined) return known;
    const client = this.client;
    return ((await client?.get(`${this.keys}slot:${number}`).catch(() => null)) ?? undefined) ?? fallback;
  }

  /** Closes this process's connections whose attribute is the value; answers how many. */
  private closeMatchingHere(attribute: string, value: unknown, code: number, reason: string): number {
    const matching = this.registry.list((entry) => entry.get(attribute) === value);
    for (const entry of matching) entry.close(code, reason);
    return matching.length;
  }

  listen(topic: string, listener: (data: string) => void): () => void {
    return this.registry.listen(topic, listener);
  }

  /** An id numbered by this process (its node number and worker): no other node holds it. */
  private isOurs(id: number): boolean {
    const { number, worker } = idHolder(id);
    return this.number !== 0 && number === this.number && worker === this.worker;
  }

  /** The process that holds an id: from its node number and worker, or, for an id without one, from the records. */
  private async holderOf(id: number, known?: ConnectionRecord): Promise<{ member: string; node: string } | undefined> {
    const { number, worker } = idHolder(id);
    if (number !== 0) return { member: `${number}:${worker}`, node: known?.node ?? `number ${number}` };
    const record = known ?? (await this.findRecord(id));
    if (!record) return undefined;
    const member = await this.memberOf(record);
    return member ? { member, node: record.node } : undefined;
  }

  private async askHolder(id: number, command: Command, known?: ConnectionRecord): Promise<boolean> {
    this.ready(); // Redis out of reach: the typed error at once
    const holder = await this.holderOf(id, known);
    if (!holder || !this.commands) return false;
    // The node's name, for the error when it does not answer: the record's, one read before, or its number's lease holder.
    const number = Number(holder.member.split(':')[0]);
    const nodeName = async () => known?.node ?? this.nameOf(number, holder.node);
    return this.commands.ask(`${this.keys}cmd:${holder.member}`, nodeName, command);
  }

  /** Runs another node's command on this process's connection. */
  private runHere(command: Command): Answer {
    switch (command.op) {
      case 'close':
        return this.registry.close(command.id, command.code ?? 1000, command.reason ?? '');
      case 'ping':
        return this.registry.ping(command.id);
      case 'terminate': {
        const entry = this.registry.get(command.id);
        entry?.terminate(command.reason ?? '');
        return entry !== undefined;
      }
      case 'send': {
        const data = command.base64 ? Buffer.from(command.data ?? '', 'base64') : (command.data ?? '');
        return this.registry.send(command.id, data, command.binary !== undefined ? { binary: command.binary } : undefined);
      }
      case 'post':
        return this.registry.post(command.id, command.topic ?? '', command.data ?? '');
      case 'get': {
        const entry = this.registry.get(command.id);
        return entry ? recordOf(entry, this.node, this.worker) : false;
      }
      case 'closeMatching':
        return this.closeMatchingHere(command.attribute ?? '', command.value, command.code ?? 1000, command.reason ?? '');
    }
  }

  private ready(): Client {
    const client = this.client;
    if (!client || this.closing) throw new WsgateError('WSGATE_API_MISUSE', 'the connection directory is not open');
    if (!client.isReady) throw new StoreUnavailableError(`connection directory: Redis at ${this.url} is out of reach`);
    return client;
  }

  /** Every other process's records. */
  private async remoteRecords(): Promise<ConnectionRecord[]> {
    const client = this.ready();
    const own = `${this.number}:${this.worker}`;
    const members = (await this.redisCall(() => client.sMembers(`${this.keys}members`))).filter((m) => m !== own);
    const read = await this.redisCall(() =>
      Promise.all(members.map((m) => Promise.all([client.hVals(`${this.keys}conns:${m}`), client.exists(`${this.keys}member:${m}`)]))),
    );
    const records: ConnectionRecord[] = [];
    const gone: string[] = [];
    for (const [i, [values, live]] of read.entries()) {
      if (values.length === 0 && live === 0) gone.push(members[i]!);
      for (const v of values) records.push(this.remember(JSON.parse(v) as ConnectionRecord));
    }
    // A member whose lease and entries expired: out of the set (a live one puts itself back at its next beat).
    if (gone.length > 0) void client.sRem(`${this.keys}members`, gone).catch(() => undefined);
    return records;
  }

  /**
   * The record of an id held by another process, or undefined: from Redis, or, not there yet (opened within
   * the holder's flush window), from the holder itself.
   */
  private async findRecord(id: number): Promise<ConnectionRecord | undefined> {
    const client = this.ready();
    const { number, worker } = idHolder(id);
    if (number !== 0) {
      const member = `${number}:${worker}`;
      const value = await this.redisCall(() => client.hGet(`${this.keys}conns:${member}`, String(id)));
      if (value) return this.remember(JSON.parse(value) as ConnectionRecord);
      const record = await this.commands?.object(`${this.keys}cmd:${member}`, () => this.nameOf(number), { op: 'get', id });
      return record ? this.remember(record as ConnectionRecord) : undefined;
    }
    // An id from a node that started without Redis: search the records (the first one found).
    return (await this.remoteRecords()).find((r) => r.id === id);
  }

  private remember(record: ConnectionRecord): ConnectionRecord {
    const { number } = idHolder(record.id);
    if (number !== 0 && this.names.get(number) !== record.node) this.names.set(number, record.node);
    return record;
  }

  /** The member (`<number>:<worker>`) a record of an id without a node number was read from. */
  private async memberOf(record: ConnectionRecord): Promise<string | undefined> {
    const client = this.ready();
    const number = await this.redisCall(() => client.get(`${this.keys}node:${record.node}`));
    return number ? `${number}:${record.worker}` : undefined;
  }

  /** A Redis call's failure as the typed outage error. */
  private async redisCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof this.redis.ErrorReply && !UNAVAILABLE_REPLY.test(err.message)) throw err;
      this.wentDown(err);
      throw new StoreUnavailableError(`connection directory: Redis at ${this.url}: ${reasonOf(err)}`, { cause: err });
    }
  }

  /** Leases the node number (again); the first time, numbers this process's connections from it. */
  private async claim(takeOver: boolean): Promise<void> {
    const client = this.client!;
    const reply = await client.eval(CLAIM_NODE, {
      arguments: [this.keys, this.node, this.instance, String(this.worker), String(EXPIRY_BEATS * this.heartbeatMs), String(this.number), String(MAX_NODES), takeOver ? '1' : '0'],
    });
    const answer = claimAnswer(reply);
    switch (answer.kind) {
      case 'claimed':
        // Heard before the number is used: a command for this process's connections finds it listening.
        await this.commands!.hearReplies();
        await this.commands!.hearCommands(`${this.keys}cmd:${answer.number}:${this.worker}`);
        if (this.number === 0) {
          this.number = answer.number;
          this.registry.setIdBase(answer.number * NODE_ID_SPAN + this.worker * WORKER_ID_SPAN);
          this.logger.info(
            { node: this.node, number: this.number, worker: this.worker, heartbeat: this.heartbeatMs / 1000, expiry: this.expirySeconds },
            'connection directory: joined',
          );
        }
        // A lease Redis no longer had: so neither has it the records (a restart with no persistence).
        if (answer.fresh) this.rewriteAll = true;
        return this.writeAll();
      case 'taken': {
        // The slot's holder is dead when no one listens on its command channel (a restart within the lease).
        const channel = `${this.keys}cmd:${answer.number}:${this.worker}`;
        const listening = (await client.pubSubNumSub(channel))[channel] ?? 0;
        if (Number(listening) === 0 && !takeOver) return this.claim(true);
        throw new WsgateError(
          'WSGATE_CONFIG_INVALID',
          `node: another live gateway is node "${this.node}" (worker ${this.worker}) in Redis at ${this.url}: give each gateway its own node.name`,
        );
      }
      case 'full':
        throw new WsgateError('WSGATE_CONFIG_INVALID', `node: ${MAX_NODES} node names are live in Redis at ${this.url}: no number left for "${this.node}"`);
      case 'lost':
        // Redis lost its data and a new node took this number while this one was out of reach: ids would collide.
        this.logger.error({ node: this.node, number: this.number, holder: answer.holder }, 'connection directory: this node\'s number is now held by another node; restart this gateway');
        return;
    }
  }

  private async beat(): Promise<void> {
    // Only while the commands channel listens too: a node whose records are back in Redis must also answer
    // the pings and closes they invite (after Redis restarts, the subscriber may reconnect after the client).
    if (this.beating || this.closing || !this.client?.isReady || !this.subscriber?.isReady) return;
    this.beating = (async () => {
      try {
        await this.claim(false);
      } catch (err) {
        this.rewriteAll = true;
        if (err instanceof WsgateError && err.code === 'WSGATE_CONFIG_INVALID') this.logger.error({ err: err.message }, 'connection directory: heartbeat refused');
        else this.wentDown(err);
      }
    })().finally(() => (this.beating = undefined));
    await this.beating;
  }

  /** The records to write: all after a failure or a reconnection, else those whose last activity changed. */
  private async writeAll(): Promise<void> {
    const client = this.client!;
    const key = `${this.keys}conns:${this.number}:${this.worker}`;
    const all = this.rewriteAll;
    this.rewriteAll = false;
    // The pending opens are written below with the changed records; the pending closes deleted.
    const closed = all ? [] : [...this.closed].map(String);
    this.opened.clear();
    this.closed.clear();
    const fields: Record<string, string> = {};
    let n = 0;
    for (const entry of this.registry) {
      if (!all && this.written.get(entry.id) === entry.lastActivityAt) continue;
      fields[entry.id] = JSON.stringify(recordOf(entry, this.node, this.worker));
      this.written.set(entry.id, entry.lastActivityAt);
      n++;
    }
    const multi = client.multi();
    if (all) multi.del(key);
    if (n > 0) multi.hSet(key, fields);
    if (closed.length > 0) multi.hDel(key, closed);
    multi.pExpire(key, EXPIRY_BEATS * this.heartbeatMs);
    try {
      await multi.exec();
    } catch (err) {
      this.rewriteAll = true;
      throw err;
    }
  }

  /** Writes the pending opens and closes at the next tick, or now when they make a full batch. */
  private scheduleFlush(): void {
    if (this.opened.size + this.closed.size >= FLUSH_BATCH) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      void this.flush(true);
      return;
    }
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => void this.flush(false), FLUSH_TICK_MS);
    this.flushTimer.unref();
  }

  /**
   * The closes pending and the opens a tick old (all of them when `all`), in one round trip and one command
   * (./write-records.ts); younger opens wait for the next tick. A failed write is not lost: the next
   * heartbeat (or Redis's return) rewrites every record.
   */
  private async flush(all: boolean): Promise<void> {
    this.flushTimer = undefined;
    const client = this.client;
    if (this.opened.size === 0 && this.closed.size === 0) return;
    if (this.number === 0 || !client?.isReady || this.closing || this.rewriteAll) {
      // The next beat writes them all.
      this.opened.clear();
      this.closed.clear();
      this.rewriteAll = true;
      return;
    }
    const key = `${this.keys}conns:${this.number}:${this.worker}`;
    const records: Array<[string, string]> = [];
    const oldEnough = all ? Infinity : Date.now() - FLUSH_TICK_MS;
    for (const entry of this.opened.values()) {
      if (entry.createdAt > oldEnough) continue;
      records.push([String(entry.id), JSON.stringify(recordOf(entry, this.node, this.worker))]);
      this.written.set(entry.id, entry.lastActivityAt);
      this.opened.delete(entry.id);
    }
    const closed = [...this.closed].map(String);
    this.closed.clear();
    if (this.opened.size > 0) this.scheduleFlush();
    if (records.length === 0 && closed.length === 0) return;
    await client.writeRecords(key, EXPIRY_BEATS * this.heartbeatMs, records, closed).catch((err: unknown) => {
      this.rewriteAll = true;
      this.wentDown(err);
    });
  }

  private wentDown(err: unknown): void {
    if (this.downSince !== undefined || this.closing) return;
    this.downSince = Date.now();
    this.rewriteAll = true;
    this.logger.warn({ directory: this.url, err: reasonOf(err) }, "connection directory: Redis out of reach; listings show this node's connections only until it is back");
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] || err.name;
  return String(err);
}
