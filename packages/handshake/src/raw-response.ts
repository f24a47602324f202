import type { Duplex } from 'node:stream';

/** How long a peer that never reads may hold a socket that only awaits closing. */
const LINGER_MS = 5_000;

/**
 * Writes a complete HTTP/1.1 response on a raw socket (one that node's HTTP server handed over, as for
 * upgrade requests) and closes the socket once it is flushed. Never throws; never leaves the socket open.
 */
export function writeRawResponse(
  socket: Duplex,
  status: number,
  statusText: string,
  headers: Readonly<Record<string, string>>,
  body: string | Buffer,
): void {
  if (!socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  let head = `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  head += '\r\n';
  socket.on('error', destroyQuietly);
  // Keep reading until the peer closes too: closing a socket with unread input sends a reset, which can
  // make the peer drop the answer before reading it.
  socket.on('end', destroyQuietly);
  socket.resume();
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
  socket.end(body.length === 0 ? head : typeof body === 'string' ? head + body : Buffer.concat([Buffer.from(head), body]));
}

function destroyQuietly(this: Duplex): void {
  this.destroy();
}
