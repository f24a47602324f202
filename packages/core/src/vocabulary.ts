/**
 * The words every part of the gateway shares. A leaf: it imports nothing of ours, so that any module may
 * use these types without joining an import circle.
 */

/** The typed attribute bag a request hands to the connection it becomes. */
export type Attributes = Record<string, unknown>;

/** The listener a request arrived on. */
export interface ListenerInfo {
  readonly name: string;
  readonly port: number;
  readonly tls: boolean;
}

/** A client's address and port (0 when a proxy told the address without one). */
export interface ClientAddress {
  readonly ip: string;
  readonly port: number;
}

/** Reply headers a route gives; an array value is written as one header line per value. */
export type ReplyHeaders = Readonly<Record<string, string | readonly string[]>>;

/** True for a promise or any other thenable: routes and hooks may answer synchronously or not. */
export function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}
