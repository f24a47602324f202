/**
 * CPU per TLS handshake at the proxy — wss in, ws out — from /proc: `clients` loops of TLS 1.3 connect →
 * upgrade request → 101 → close frame → the proxy closes, counted in batches, the sides taking turns so that
 * the machine's noise falls on all alike. With TLS the load generator (one core, full handshakes on the
 * client side too) is often the limit, so the figure is the proxy's CPU, not a rate. `resume` offers each
 * connection the session ticket of its loop's last one, as browsers do; the share actually resumed is counted.
 */
import net from 'node:net';
import tls from 'node:tls';
import { CLOSE_FRAME, upgradeRequest } from '../gateway/frames.js';
import { awaitUpgrade } from '../gateway/ws-client.js';
import { nextSourceAddress } from '../gateway/loopback.js';
import { cpuMicros } from './process-stats.js';

export interface TlsSide {
  readonly port: number;
  /** The processes whose CPU counts (master and workers). */
  readonly pids: () => readonly number[];
}

export interface TlsCpuOptions {
  /** The CA that signed the proxies' certificate. */
  readonly ca: string;
  readonly resume: boolean;
  readonly clients: number;
  /** Handshakes per client per turn. */
  readonly perTurn: number;
  readonly turns: number;
}

export interface TlsCpu {
  /** Proxy CPU per handshake, µs. */
  readonly micros: number;
  /** The share (0..1) of handshakes that resumed a session. */
  readonly resumed: number;
  readonly handshakes: number;
}

const CYCLE_TIMEOUT_MS = 10_000;

/** One cycle; resolves with whether the session was resumed, and the newest session ticket seen. */
function cycle(port: number, ca: string, localAddress: string, request: Buffer, session: Buffer | undefined): Promise<{ resumed: boolean; session: Buffer | undefined }> {
  return new Promise((resolve, reject) => {
    let latest = session;
    const raw = net.connect({ host: '127.0.0.1', port, localAddress });
    const socket = tls.connect({ socket: raw, host: '127.0.0.1', ca, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ...(session ? { session } : {}) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TLS handshake cycle within ${CYCLE_TIMEOUT_MS} ms`));
    }, CYCLE_TIMEOUT_MS);
    socket.on('session', (ticket: Buffer) => (latest = ticket));
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
    socket.once('secureConnect', () => {
      const resumed = socket.isSessionReused();
      socket.write(request);
      awaitUpgrade(socket, (err) => {
        if (err) return socket.destroy(err);
        // The proxy closes TCP first (its side keeps TIME_WAIT): our socket ends when it does.
        socket.write(CLOSE_FRAME);
        socket.resume();
        socket.once('close', () => {
          clearTimeout(timer);
          resolve({ resumed, session: latest });
        });
      });
    });
  });
}

/** Each side's CPU per TLS handshake, the sides taking `turns` turns each. */
export async function tlsHandshakeCpu<S extends string>(sides: Readonly<Record<S, TlsSide>>, options: TlsCpuOptions): Promise<Record<S, TlsCpu>> {
  const names = Object.keys(sides) as S[];
  const totals = Object.fromEntries(names.map((s) => [s, { cpu: 0, handshakes: 0, resumed: 0 }])) as Record<S, { cpu: number; handshakes: number; resumed: number }>;
  // Per side and client loop: the last session ticket, carried over turns.
  const sessions = Object.fromEntries(names.map((s) => [s, new Array<Buffer | undefined>(options.clients).fill(undefined)])) as Record<S, Array<Buffer | undefined>>;
  const turn = async (side: S, counted: boolean) => {
    const { port, pids } = sides[side];
    const request = upgradeRequest(port, '/', 'echo');
    const from = nextSourceAddress();
    const cpu0 = cpuMicros(pids());
    let resumed = 0;
    await Promise.all(
      Array.from({ length: options.clients }, async (_, client) => {
        for (let i = 0; i < options.perTurn; i++) {
          const done = await cycle(port, options.ca, from, request, options.resume ? sessions[side][client] : undefined);
          sessions[side][client] = done.session;
          if (done.resumed) resumed++;
        }
      }),
    );
    // The proxy's part of the last closes.
    await new Promise((r) => setTimeout(r, 50));
    if (!counted) return;
    const t = totals[side];
    t.cpu += cpuMicros(pids()) - cpu0;
    t.handshakes += options.clients * options.perTurn;
    t.resumed += resumed;
  };
  // One turn each that is not counted: code warms up, and the first tickets are issued.
  for (const side of names) await turn(side, false);
  for (let i = 0; i < options.turns; i++) for (const side of names) await turn(side, true);
  return Object.fromEntries(
    names.map((s) => {
      const t = totals[s];
      return [s, { micros: t.cpu / t.handshakes, resumed: t.resumed / t.handshakes, handshakes: t.handshakes }];
    }),
  ) as Record<S, TlsCpu>;
}
