/**
 * The baseline: a bare `ws` server with the gateway's limits (no permessage-deflate, 1 MiB messages) doing what
 * the sample gateway does on `echo`: every message sent back as it came. (The sample's `sip` is a registrar and
 * proxy, measured against Kamailio instead.)
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { serveChild } from './server-child.js';

const BINARY = { binary: true } as const;
const TEXT = { binary: false } as const;

function noop(): void {}

function echo(this: WebSocket, data: Buffer, isBinary: boolean): void {
  this.send(data, isBinary ? BINARY : TEXT);
}

await serveChild('bare ws', async () => {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: false,
    maxPayload: 1024 * 1024,
    handleProtocols: (offered) => (offered.has('echo') ? 'echo' : false),
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  wss.on('connection', (ws) => {
    ws.on('error', noop);
    ws.on('message', echo);
  });
  const address = wss.address();
  if (typeof address === 'string' || address === null) throw new Error('no TCP address');
  return address.port;
});
