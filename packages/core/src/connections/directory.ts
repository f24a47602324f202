import type { CloseInfo, ConnectionEntry } from './connection-entry.js';

/**
 * Told of every connection that opens and closes, terminated or proxied. The in-process registry calls
 * subscribers synchronously, as the open or close happens, so a count kept from them is exact at the next
 * handshake. The directory shared by several gateways (shared-directory.ts) tells them of this process's
 * connections only: what they keep (the connections gauge, per-client limits) is per process.
 */
export interface ConnectionSubscriber {
  opened?(entry: ConnectionEntry<any>): void;
  closed?(entry: ConnectionEntry<any>, info: CloseInfo): void;
}

export interface SubscribeOptions {
  /**
   * Be told first of each connection open now, as an `opened()`, and only then of later opens and closes:
   * a count kept from the events starts from the truth, with no open or close lost or counted twice in
   * between. Default false.
   */
  readonly current?: boolean;
}

/**
 * The connections a gateway can reach, by id: what the management API (`wsgate ctl list/show/close/ping`),
 * token revocation and per-client limits use, rather than any one implementation. The in-process
 * `ConnectionRegistry` (`gateway.connections`) holds this process's connections, terminated and proxied; a
 * directory shared by several gateways can stand in its place and reach every node's.
 *
 * Answers: the methods that find or act on connections (`list`, `get`, `close`, `ping`, `send`) may answer
 * through a promise, since a shared directory has to ask the node that holds a connection. The in-process
 * registry always answers at once, with a plain value (no promise, no microtask): a caller on a hot path
 * tests with `isThenable()`, any other may simply `await`; the shared directory answers this process's
 * connections so too, and another node's through a promise. `size` and `subscribe` are always synchronous.
 */
export interface ConnectionDirectory {
  /** Open connections, terminated and proxied, as known now without asking anyone. */
  readonly size: number;

  /**
   * Open connections, oldest first, those `filter` accepts (all when none is given). May be a promise.
   * The entries are live for the in-process registry; a shared directory's entries for another node's
   * connections act through it.
   */
  list(filter?: (entry: ConnectionEntry<any>) => boolean): readonly ConnectionEntry<any>[] | Promise<readonly ConnectionEntry<any>[]>;

  /** The open connection with this id, or undefined. May be a promise. */
  get(id: number): ConnectionEntry<any> | undefined | Promise<ConnectionEntry<any> | undefined>;

  /**
   * Closes a connection (code 1000 and no reason by default; a tunnel passes them on as far as its mode
   * allows). Answers false when there is no such id. May be a promise. The closing handshake has begun, not
   * ended: the close is told to subscribers when it has.
   */
  close(id: number, code?: number, reason?: string): boolean | Promise<boolean>;

  /**
   * Pings a connection: a terminated one gets a ping frame; a proxied one is pinged as far as its mode allows
   * (a raw tunnel that cannot inject a frame is not). Answers false when there is no such id. May be a promise.
   */
  ping(id: number): boolean | Promise<boolean>;

  /**
   * Sends a message to a connection terminated here: a string as text, a Buffer as binary unless
   * `binary: false`. Answers true once the message is queued on the connection (not a delivery receipt);
   * false when there is no such id, the connection is a proxied tunnel (the gateway does not write into it),
   * or it is no longer open, and false too when the message was queued but the connection is now over its
   * send limit (`limits.sendQueue`, as `Connection.send()` answers: hold off). May be a promise.
   */
  send(id: number, data: string | Buffer, options?: { readonly binary?: boolean }): boolean | Promise<boolean>;

  /**
   * Closes every open connection whose attribute `attribute` is `value` (as a token revocation closes what the
   * token opened) and answers how many. A directory shared by several gateways asks every node to close its
   * own, so a connection just opened is closed too, listed yet or not. Optional: without it, filter `list()`
   * and close each (exact for the in-process registry). May be a promise.
   */
  closeMatching?(attribute: string, value: string | number | boolean, code?: number, reason?: string): number | Promise<number>;

  /** Be told of opens and closes from now on (see `SubscribeOptions.current`); returns the function that stops it. */
  subscribe(subscriber: ConnectionSubscriber, options?: SubscribeOptions): () => void;
  /**
   * Hands `data` to the listener of `topic` (`listen()`) in the process that holds connection `id`, another
   * node's through Redis: a route module's own traffic between nodes, such as a SIP response going back to
   * the process whose proxy sent the request. Answers false when no process holds the id or nothing listens
   * on the topic there. May be a promise.
   */
  post(id: number, topic: string, data: string): boolean | Promise<boolean>;
  /** Hears what `post()` hands this process on `topic` (one listener a topic); returns the function that stops it. */
  listen(topic: string, listener: (data: string) => void): () => void;
}
