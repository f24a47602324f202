/**
 * The floor beside the wsgate figure: the least any node proxy does — a TCP relay (`pipe()` both ways) opened
 * at accept, with no HTTP parsing, no checks, no headers added: what node's sockets cost alone, whoever's code
 * runs on them. Workers of the bench's cluster primary (./relay-primary.ts: `RELAY_WORKERS` of them sharing one
 * listener, scheduled as wsgate's own cluster), relaying to the upstream on `UPSTREAM_PORT`.
 *
 * With `RELAY_TLS_CERT` and `RELAY_TLS_KEY` (PEM files) the workers also listen with TLS 1.3 on a second port,
 * with one set of session ticket keys for all workers, as wsgate's: node's floor for the TLS handshake figure.
 */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { runRelayPrimary } from './relay-primary.js';

const env = process.env;

/** One set for all workers, so that a client resumes on whichever worker accepts it. */
const ticketKeys = env.RELAY_TICKET_KEYS ? Buffer.from(env.RELAY_TICKET_KEYS, 'hex') : randomBytes(48);

function relay(client: net.Socket): void {
  const up = net.connect({ host: '127.0.0.1', port: Number(env.UPSTREAM_PORT), noDelay: true, allowHalfOpen: true });
  client.pipe(up);
  up.pipe(client);
  client.on('error', () => up.destroy());
  up.on('error', () => client.destroy());
}

function worker(): void {
  net.createServer({ noDelay: true, allowHalfOpen: true }, relay).listen(Number(env.RELAY_PORT), '127.0.0.1');
  if (env.RELAY_TLS_PORT) {
    const options = { cert: readFileSync(env.RELAY_TLS_CERT!), key: readFileSync(env.RELAY_TLS_KEY!), minVersion: 'TLSv1.3' as const, ticketKeys };
    tls.createServer({ ...options, noDelay: true, allowHalfOpen: true }, relay).listen(Number(env.RELAY_TLS_PORT), '127.0.0.1');
  }
  process.on('disconnect', () => process.exit(0));
}

if (cluster.isPrimary) {
  await runRelayPrimary({
    worker: 'relay worker',
    tls: Boolean(env.RELAY_TLS_CERT),
    workerEnv: (port, tlsPort) => ({ RELAY_PORT: String(port), RELAY_TLS_PORT: String(tlsPort ?? ''), RELAY_TICKET_KEYS: ticketKeys.toString('hex') }),
  });
} else worker();
