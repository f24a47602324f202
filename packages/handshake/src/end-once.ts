/**
 * `end()` made free on a stream that has already ended.
 *
 * When a WebSocket closes, `ws` calls `end()` again on its socket and on its frame receiver, from the socket's
 * `'end'` and `'close'` listeners, after the closing handshake has already ended both. Each of these calls
 * changes nothing. But node's `Writable.end` first builds the error it would pass to a callback
 * (`ERR_STREAM_ALREADY_FINISHED`) and then drops it. Node's errors capture stack traces with no depth
 * limit, so the three dropped errors cost about 50 µs of CPU per closed connection: on the benchmark's
 * handshake load, a quarter of the server's CPU for a connect, handshake and close (docs/architecture.md).
 *
 * The guard is set on the instances this package hands to `ws`, not on node's or `ws`'s prototypes. It
 * skips exactly the calls that would change nothing:
 * - no chunk and no callback (a callback must still be called, with its error);
 * - the stream has already ended;
 * - the stream is not corked (`end()` uncorks).
 * Every other call goes to the stream's own `end`.
 */
import type { Writable } from 'node:stream';
import type { WebSocket } from 'ws';

type End = Writable['end'];

function endUnlessEnded(this: Writable, chunk?: unknown, encoding?: unknown, callback?: unknown): Writable {
  if (chunk === undefined && encoding === undefined && callback === undefined && this.writableEnded && this.writableCorked === 0) return this;
  return (Object.getPrototypeOf(this) as Writable).end.call(this, chunk as never, encoding as never, callback as never);
}

/** Makes repeated `end()` calls on `stream` free (see the module comment). */
export function endOnce(stream: Pick<Writable, 'end'>): void {
  stream.end = endUnlessEnded as End;
}

/** {@link endOnce} for the two streams `ws` ends again when `ws` closes: its socket and its frame receiver. */
export function endOnceOnClose(ws: WebSocket): void {
  const inner = ws as unknown as { _socket?: Writable; _receiver?: Writable };
  if (inner._socket !== undefined) endOnce(inner._socket);
  if (inner._receiver !== undefined) endOnce(inner._receiver);
}
