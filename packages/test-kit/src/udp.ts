/** Test support: UDP peers for the stream relay's tests — a media node, a client, a free port. */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { sleep } from './wait.js';

export interface UdpNode {
  readonly port: number;
  readonly socket: dgram.Socket;
  /** `address:port` of every peer that sent it something. */
  readonly peers: Set<string>;
}

/** A UDP "media node": answers every datagram with `<name>:<datagram>`. */
export async function udpNode(name: string): Promise<UdpNode> {
  const socket = dgram.createSocket('udp4');
  const peers = new Set<string>();
  socket.on('message', (msg, rinfo) => {
    peers.add(`${rinfo.address}:${rinfo.port}`);
    socket.send(`${name}:${msg.toString()}`, rinfo.port, rinfo.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { port: socket.address().port, socket, peers };
}

export interface UdpClient {
  /** Sends `msg` to 127.0.0.1:`port`; the answer, or `timeout` after 2 s. */
  ask(msg: string, port: number): Promise<string>;
  close(): void;
}

export async function udpClient(localAddress: string): Promise<UdpClient> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, localAddress);
  await once(socket, 'listening');
  return {
    async ask(msg, port) {
      socket.send(msg, port, '127.0.0.1');
      const [reply] = (await Promise.race([once(socket, 'message'), sleep(2000).then(() => [Buffer.from('timeout')])])) as [Buffer];
      return reply.toString();
    },
    close: () => socket.close(),
  };
}

/** A UDP port free on 127.0.0.1 now. */
export async function freeUdpPort(): Promise<number> {
  const probe = dgram.createSocket('udp4');
  probe.bind(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
