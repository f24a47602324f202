/**
 * The load generator's WebSocket client: a raw `net` socket, a prebuilt upgrade request, and a wait for the
 * end of the 101 head. No `ws` client: its per-message work would be measured instead of the server's.
 */
import net from 'node:net';
import { CLOSE_FRAME } from './frames.js';

export interface Target {
  readonly port: number;
  /** The prebuilt upgrade request for this server and subprotocol (see `upgradeRequest`). */
  readonly request: Buffer;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_101 = Buffer.from('HTTP/1.1 101 ');

/**
 * Reads the server's answer to the upgrade request on `socket`; calls `done` once, with the bytes that followed
 * the head (frames the server sent at once), or with an error naming the status line when it was not a 101.
 */
export function awaitUpgrade(socket: net.Socket, done: (err: Error | undefined, rest?: Buffer) => void): void {
  let head: Buffer | undefined;
  const onData = (chunk: Buffer) => {
    head = head ? Buffer.concat([head, chunk]) : chunk;
    const end = head.indexOf(HEAD_END);
    if (end === -1) {
      if (head.length > 8192) finish(new Error('upgrade answer head too long'));
      return;
    }
    if (head.compare(STATUS_101, 0, STATUS_101.length, 0, STATUS_101.length) !== 0) {
      finish(new Error(`upgrade refused: ${head.toString('latin1', 0, head.indexOf('\r\n'))}`));
      return;
    }
    finish(undefined, head.subarray(end + 4));
  };
  const onEnd = () => finish(new Error('connection closed during the upgrade'));
  const onError = (err: Error) => finish(err);
  const finish = (err: Error | undefined, rest?: Buffer) => {
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('error', onError);
    done(err, rest);
  };
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
}

/** Connects from `localAddress`, upgrades, and resolves with the open socket (no listeners left on it). */
export function openWebSocket(
  target: Target,
  localAddress: string,
  timeoutMs = 10_000,
): Promise<{ socket: net.Socket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: target.port, localAddress, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`upgrade timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => socket.write(target.request));
    awaitUpgrade(socket, (err, rest) => {
      clearTimeout(timer);
      if (err) {
        socket.destroy();
        reject(err);
      } else {
        resolve({ socket, rest: rest! });
      }
    });
  });
}

/**
 * Opens `count` WebSockets, at most `concurrency` handshakes at a time. Fails (closing what it opened) on the
 * first failure or once `timeoutMs` is spent, so a refusing server cannot hang the run.
 */
export async function openMany(
  target: Target,
  localAddress: string,
  count: number,
  concurrency: number,
  timeoutMs: number,
): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  const deadline = Date.now() + timeoutMs;
  let started = 0;
  let failure: Error | undefined;
  const worker = async () => {
    while (started < count && failure === undefined) {
      started++;
      const left = deadline - Date.now();
      if (left <= 0) {
        failure = new Error(`opened only ${sockets.length} of ${count} WebSockets in ${timeoutMs} ms`);
        break;
      }
      try {
        const { socket } = await openWebSocket(target, localAddress, left);
        sockets.push(socket);
      } catch (err) {
        failure ??= new Error(`WebSocket ${sockets.length + 1} of ${count}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failure) {
    await closeAll(sockets, 2000);
    throw failure;
  }
  return sockets;
}

/**
 * Closes WebSockets the polite way: a close frame, then the server closes TCP first (its side keeps TIME_WAIT,
 * not ours). Whatever has not closed after `timeoutMs` is destroyed.
 */
export function closeAll(sockets: readonly net.Socket[], timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    let open = 0;
    const timer = setTimeout(() => {
      for (const s of sockets) s.destroy();
      resolve();
    }, timeoutMs);
    const closed = () => {
      if (--open === 0) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (const s of sockets) {
      if (s.destroyed) continue;
      open++;
      s.removeAllListeners('data');
      s.on('data', noop);
      s.on('error', noop);
      s.once('close', closed);
      s.write(CLOSE_FRAME);
    }
    if (open === 0) {
      clearTimeout(timer);
      resolve();
    }
  });
}

function noop(): void {}
