/** The UDP and TCP port relays with real sockets: sessions, stickiness, idle timeout, failover, hand-over on reload. */
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, freeUdpPort, udpClient, udpNode, until } from '@wsgate/test-kit';
import { streamRelay } from './stream-relay.js';

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

/** A TCP node answering every chunk with `<name>:<chunk>`. */
async function tcpNode(name: string): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer((s) => s.on('data', (c: Buffer) => s.write(`${name}:${c.toString()}`)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, server };
}

async function ask(socket: net.Socket, text: string): Promise<string> {
  socket.write(text);
  return String((await once(socket, 'data'))[0]);
}

describe('retire() on a reload: the port goes to the new relay on the same address', () => {
  it('udp: sessions move with the socket (same node, same source port); new clients get the new nodes; shutdown frees the port', async () => {
    const [jvb1, jvb2] = [await udpNode('jvb1'), await udpNode('jvb2')];
    const port = await freeUdpPort();
    const before = streamRelay({ protocol: 'udp', listen: { port }, servers: [`127.0.0.1:${jvb1.port}`] });
    await before.listen();
    const old = await udpClient('127.0.0.60');
    expect(await old.ask('a', port)).toBe('jvb1:a');

    // The new script's relay, made while the old one still holds the port: it waits.
    const after = streamRelay({ protocol: 'udp', listen: { port }, servers: [`127.0.0.1:${jvb2.port}`] });
    await after.listen();
    expect(after.address().port).toBe(port);
    expect(await old.ask('b', port)).toBe('jvb1:b');

    await before.retire('reload');
    expect(await old.ask('c', port)).toBe('jvb1:c');
    expect(jvb1.peers.size).toBe(1);
    const fresh = await udpClient('127.0.0.61');
    expect(await fresh.ask('d', port)).toBe('jvb2:d');
    expect([before.sessions, after.sessions]).toEqual([0, 2]);

    await after.retire('shutdown');
    const probe = dgram.createSocket('udp4');
    probe.bind(port, '127.0.0.1');
    await once(probe, 'listening');
    probe.close();
    for (const c of [old, fresh]) c.close();
    for (const n of [jvb1, jvb2]) n.socket.close();
  });

  it('tcp: open sessions carry on, new ones reach the new nodes, and the new relay ends both on shutdown', async () => {
    const [one, two] = [await tcpNode('one'), await tcpNode('two')];
    const port = await freePort();
    const before = streamRelay({ protocol: 'tcp', listen: { port }, servers: [`127.0.0.1:${one.port}`] });
    await before.listen();
    const old = net.connect({ port, host: '127.0.0.1' });
    expect(await ask(old, 'x')).toBe('one:x');

    const after = streamRelay({ protocol: 'tcp', listen: { port }, servers: [`127.0.0.1:${two.port}`] });
    await after.listen();
    await before.retire('reload');
    expect(await ask(old, 'y')).toBe('one:y');
    const fresh = net.connect({ port, host: '127.0.0.1' });
    expect(await ask(fresh, 'z')).toBe('two:z');
    expect([before.sessions, after.sessions]).toEqual([1, 1]);

    const ended = Promise.all([once(old, 'close'), once(fresh, 'close')]);
    old.on('end', () => old.end());
    fresh.on('end', () => fresh.end());
    await after.close();
    await ended;
    await until(() => before.sessions + after.sessions === 0, 3000, 'node sides closed');
    const probe = net.createServer().listen(port, '127.0.0.1');
    await once(probe, 'listening');
    probe.close();
    for (const n of [one, two]) n.server.close();
  });
});
