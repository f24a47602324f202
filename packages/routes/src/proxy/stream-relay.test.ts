/** The UDP and TCP port relays with real sockets: sessions, stickiness, idle timeout, failover. */
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamRelay } from './stream-relay.js';
import { sleep, until } from './test-peers.js';

/** A UDP "media node": answers every datagram with `<name>:<datagram>`. */
async function udpNode(name: string): Promise<{ port: number; socket: dgram.Socket; peers: Set<string> }> {
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

async function udpClient(localAddress: string): Promise<{ ask(msg: string, port: number): Promise<string>; close(): void }> {
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

describe('udp relay', () => {
  const nodes: Awaited<ReturnType<typeof udpNode>>[] = [];
  beforeAll(async () => {
    for (const n of ['jvb1', 'jvb2', 'jvb3']) nodes.push(await udpNode(n));
  });
  afterAll(() => nodes.forEach((n) => n.socket.close()));

  it('relays datagrams both ways, keeps each client on its ip_hash node, one session per client', async () => {
    const relay = streamRelay({ protocol: 'udp', listen: { port: 0 }, servers: nodes.map((n) => `127.0.0.1:${n.port}`), balance: 'ip_hash' });
    await relay.listen();
    const port = relay.address().port;
    const clients = await Promise.all(Array.from({ length: 12 }, (_, i) => udpClient(`127.0.0.${20 + i}`)));
    const first = await Promise.all(clients.map((c, i) => c.ask(`hello${i}`, port)));
    for (let round = 0; round < 3; round++) {
      const again = await Promise.all(clients.map((c, i) => c.ask(`hello${i}`, port)));
      expect(again).toEqual(first);
    }
    expect(new Set(first.map((r) => r.split(':')[0])).size).toBeGreaterThan(1);
    expect(relay.sessions).toBe(12);
    clients.forEach((c) => c.close());
    await relay.close();
  });

  it('ends idle sessions', async () => {
    const relay = streamRelay({ protocol: 'udp', listen: { port: 0 }, servers: [`127.0.0.1:${nodes[0]!.port}`], idleTimeout: 0.2 });
    await relay.listen();
    const c = await udpClient('127.0.0.40');
    expect(await c.ask('x', relay.address().port)).toBe('jvb1:x');
    expect(relay.sessions).toBe(1);
    await until(() => relay.sessions === 0, 1500, 'idle session ended');
    c.close();
    await relay.close();
  });
});

describe('tcp relay', () => {
  it('pipes connections to a node, half-close included, skipping a node that refuses', async () => {
    const echo = net.createServer({ allowHalfOpen: true }, (s) => {
      s.pipe(s);
    });
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const dead = net.createServer().listen(0, '127.0.0.1');
    await once(dead, 'listening');
    const deadPort = (dead.address() as net.AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const relay = streamRelay({ protocol: 'tcp', listen: { port: 0 }, servers: [`127.0.0.1:${deadPort}`, `127.0.0.1:${(echo.address() as net.AddressInfo).port}`] });
    await relay.listen();
    for (let i = 0; i < 3; i++) {
      const socket = net.connect({ port: relay.address().port, host: '127.0.0.1', allowHalfOpen: true });
      let got = '';
      socket.on('data', (c: Buffer) => (got += c));
      socket.end(`message ${i}`);
      await once(socket, 'end');
      expect(got).toBe(`message ${i}`);
      socket.destroy();
    }
    expect(relay.nodes[0]!.available(Date.now())).toBe(false);
    await until(() => relay.sessions === 0);
    await relay.close();
    echo.close();
  });
});
