/**
 * The floor beside the SIP figures: the least any node registrar and proxy on `ws` does for the benchmark's
 * phones — no parser, no digest check, no transaction state beyond one map, no store: each request is looked
 * at by string search only. REGISTER without Authorization gets 401, with it 200 (the phone's WebSocket
 * bound to its user); MESSAGE without Proxy-Authorization gets 407, with it goes to the callee's WebSocket
 * under a Via of its own, and the callee's answer goes back by that Via's branch. What this costs is node's
 * WebSockets and a few string operations; no SIP server on node can do less. One process, as wsgate's SIP
 * bench gateway.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { serveChild } from '../gateway/server-child.js';

const CRLF = '\r\n';
const NONCE = 'floor-nonce-0123456789abcdef';

/** By user: the WebSocket it registered from. */
const bound = new Map<string, WebSocket>();
/** By the branch of our Via: the caller's WebSocket. */
const pending = new Map<string, WebSocket>();
let branches = 0;

/** The header lines a response copies from its request (Via, From, To, Call-ID, CSeq). */
function copied(text: string): string[] {
  const lines = text.slice(0, text.indexOf('\r\n\r\n')).split(CRLF);
  return lines.filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
}

function reply(ws: WebSocket, text: string, status: string, extra: readonly string[] = []): void {
  ws.send([`SIP/2.0 ${status}`, ...copied(text), ...extra, 'Content-Length: 0', '', ''].join(CRLF));
}

/** The user part of the first `sip:` URI after `from` in `text`. */
function userAt(text: string, from: number): string {
  const start = text.indexOf('sip:', from) + 4;
  return text.slice(start, text.indexOf('@', start));
}

function onRequest(ws: WebSocket, text: string): void {
  const method = text.slice(0, text.indexOf(' '));
  if (method === 'REGISTER') {
    if (!text.includes('\r\nAuthorization:')) return reply(ws, text, '401 Unauthorized', [`WWW-Authenticate: Digest realm="example.com", nonce="${NONCE}", qop="auth", algorithm=MD5`]);
    bound.set(userAt(text, text.indexOf('\r\nTo:')), ws);
    const contact = text.slice(text.indexOf('\r\nContact:') + 2, text.indexOf(CRLF, text.indexOf('\r\nContact:') + 2));
    return reply(ws, text, '200 OK', [contact]);
  }
  if (method === 'MESSAGE') {
    if (!text.includes('\r\nProxy-Authorization:')) return reply(ws, text, '407 Proxy Authentication Required', [`Proxy-Authenticate: Digest realm="example.com", nonce="${NONCE}", qop="auth", algorithm=MD5`]);
    const callee = bound.get(userAt(text, 0));
    if (callee === undefined) return reply(ws, text, '480 Temporarily Unavailable');
    const branch = `z9hG4bKfloor${++branches}`;
    pending.set(branch, ws);
    const lineEnd = text.indexOf(CRLF);
    return void callee.send(`${text.slice(0, lineEnd)}\r\nVia: SIP/2.0/WS floor.invalid;branch=${branch}${text.slice(lineEnd)}`);
  }
  reply(ws, text, '501 Not Implemented');
}

/** A callee's answer: our Via off the top, then to the caller. */
function onResponse(text: string): void {
  const via = text.indexOf('\r\nVia:');
  const viaEnd = text.indexOf(CRLF, via + 2);
  const line = text.slice(via, viaEnd);
  const branch = line.slice(line.indexOf('branch=') + 7);
  const caller = pending.get(branch);
  if (caller === undefined) return;
  if (Number(text.slice(8, 11)) >= 200) pending.delete(branch);
  caller.send(text.slice(0, via) + text.slice(viaEnd));
}

await serveChild('node floor (SIP)', async () => {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: Number(process.env.FLOOR_PORT ?? 0),
    perMessageDeflate: false,
    maxPayload: 64 * 1024,
    handleProtocols: (offered) => (offered.has('sip') ? 'sip' : false),
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  wss.on('connection', (ws) => {
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      if (text.startsWith('SIP/2.0 ')) onResponse(text);
      else onRequest(ws, text);
    });
    ws.on('close', () => {
      for (const [user, socket] of bound) if (socket === ws) bound.delete(user);
    });
  });
  const address = wss.address();
  if (typeof address === 'string' || address === null) throw new Error('no TCP address');
  return address.port;
});
