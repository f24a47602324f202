import { performance } from 'node:perf_hooks';
import type { ConnectionEntry } from '../connections/connection-entry.js';
import type { ConnectionRegistry } from '../connections/registry.js';
import type { AccessEntry, AccessLog, HeldLine } from './access-log.js';

/**
 * The access-log lines of open WebSockets, terminated or proxied. nginx writes a request's line when the
 * request ends, and a WebSocket's request ends when it closes: its line is written then, with the payload
 * bytes each way ($body_bytes_sent, $bytes_received) and the time from the request head to the close
 * ($request_time). A line is held only while an access log is on: its request's part, rendered at the 101.
 */
export class HeldAccessLines {
  private readonly held = new Map<number, { readonly line: HeldLine; readonly started: number }>();

  constructor(
    private readonly registry: ConnectionRegistry,
    /** The log in force when a connection closes (a reload may have replaced the one that held its line). */
    private readonly log: () => AccessLog | undefined,
  ) {
    registry.subscribe({
      closed: (conn) => {
        const h = this.held.get(conn.id);
        if (h === undefined) return;
        this.held.delete(conn.id);
        this.write(h.line, conn, h.started);
      },
    });
  }

  /** `started`: `performance.now()` at the request head. A connection already gone is written at once. */
  hold(log: AccessLog, conn: ConnectionEntry<any>, entry: Omit<AccessEntry, 'bytes' | 'bytesIn' | 'seconds'>, started: number): void {
    const line = log.hold(entry);
    if (this.registry.get(conn.id) === conn) this.held.set(conn.id, { line, started });
    else this.write(line, conn, started);
  }

  private write(line: HeldLine, conn: ConnectionEntry<any>, started: number): void {
    const counts = conn.counts();
    this.log()?.writeHeld(line, { bytes: counts.bytesOut, bytesIn: counts.bytesIn, seconds: (performance.now() - started) / 1000 });
  }
}
