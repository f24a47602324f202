/**
 * The baseline: a bare `ws` server with the gateway's limits (no permessage-deflate, 1 MiB messages) doing what
 * the sample gateway does on its two subprotocols — `echo` sends every message back as it came, `sip` answers
 * each text message with `answerSip`.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { answerSip } from '@wsgate/examples';
import { serveChild } from './server-child.js';

const BINARY = { binary: true } as const;
const TEXT = { binary: false } as const;

function noop(): void {}

function echo(this: WebSocket, data: Buffer, isBinary: boolean): void {
  this.send(data, isBinary ? BINARY : TEXT);
}

function sip(this: WebSocket, data: Buffer, isBinary: boolean): void {
  if (isBinary) return;
  const answer = answerSip(data.toString());
  if (answer !== undefined) this.send(answer);
}

await serveChild('bare ws', async () => {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: false,
    maxPayload: 1024 * 1024,
    handleProtocols: (offered) => (offered.has('sip') ? 'sip' : offered.has('echo') ? 'echo' : false),
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  wss.on('connection', (ws) => {
    ws.on('error', noop);
    ws.on('message', ws.protocol === 'sip' ? sip : echo);
  });
  const address = wss.address();
  if (typeof address === 'string' || address === null) throw new Error('no TCP address');
  return address.port;
});
