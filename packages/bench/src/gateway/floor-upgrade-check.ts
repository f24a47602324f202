/**
 * The handshake floor's check of an upgrade request head (./handshake-floor.ts): the least RFC 6455 §4.2.1 asks
 * of a server, and nothing more — a GET with HTTP/1.1, Host, `Upgrade: websocket`, `Connection: upgrade`, a
 * Sec-WebSocket-Key of 16 bytes in base64 and version 13; the `echo` subprotocol chosen when offered, as the
 * bare `ws` server and the sample gateway do. Pure: a head in, a 101 or a refusal out.
 */
import { hasToken } from '@wsgate/core';
import { acceptKey, keyProblem } from '@wsgate/handshake';

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/(\d)\.(\d)$/;
/** A header line as RFC 9110 §5 has it: a token, a colon with no space before it, no control character but HTAB in the value. */
const HEADER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\x00-\x08\x0a-\x1f\x7f]*$/;

export type UpgradeAnswer =
  | { readonly ok: true; readonly response: string }
  | { readonly ok: false; readonly response: string; readonly status: number };

function refuse(status: number, reason: string, extra = ''): UpgradeAnswer {
  const text = `${reason}\n`;
  return {
    ok: false,
    status,
    response: `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n${extra}Content-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`,
  };
}

/** Checks `head` (the request line and header lines, latin1, without the blank line that ends it). */
export function checkUpgrade(head: string): UpgradeAnswer {
  const lines = head.split('\r\n');
  const request = REQUEST_LINE.exec(lines[0]!);
  if (request === null) return refuse(400, 'Bad Request line');
  if (request[3] !== '1' || request[4] === '0') return refuse(400, 'HTTP/1.1 or later required');
  if (request[1] !== 'GET') return refuse(405, 'Method Not Allowed', 'Allow: GET\r\n');
  let host: string | undefined;
  let upgrade: string | undefined;
  let connection: string | undefined;
  let version: string | undefined;
  let key: string | undefined;
  let protocols = '';
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    // A folded line (obsolete, RFC 9112 §5.2) fails here too, as in node's parser.
    if (!HEADER_LINE.test(line)) return refuse(400, 'Bad header line');
    const colon = line.indexOf(':');
    const value = line.slice(colon + 1).trim();
    switch (line.slice(0, colon).toLowerCase()) {
      case 'host':
        if (host !== undefined) return refuse(400, 'Duplicate Host');
        host = value;
        break;
      case 'upgrade':
        upgrade = upgrade === undefined ? value : `${upgrade},${value}`;
        break;
      case 'connection':
        connection = connection === undefined ? value : `${connection},${value}`;
        break;
      case 'sec-websocket-version':
        if (version !== undefined) return refuse(400, 'Duplicate Sec-WebSocket-Version');
        version = value;
        break;
      case 'sec-websocket-key':
        if (key !== undefined) return refuse(400, 'Duplicate Sec-WebSocket-Key');
        key = value;
        break;
      case 'sec-websocket-protocol':
        protocols += `,${value}`;
        break;
    }
  }
  if (host === undefined || host === '') return refuse(400, 'Missing Host');
  if (upgrade === undefined || !hasToken(upgrade, 'websocket')) return refuse(400, 'Missing Upgrade: websocket');
  if (connection === undefined || !hasToken(connection, 'upgrade')) return refuse(400, 'Missing Connection: upgrade');
  if (version !== '13') return refuse(426, 'Upgrade Required', 'Sec-WebSocket-Version: 13\r\n');
  if (key === undefined || keyProblem(key) !== undefined) return refuse(400, 'Missing or invalid Sec-WebSocket-Key');
  // Subprotocol names are case-sensitive (RFC 6455 §4.1).
  const protocol = protocols.split(',').some((p) => p.trim() === 'echo') ? 'Sec-WebSocket-Protocol: echo\r\n' : '';
  return {
    ok: true,
    response: `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n${protocol}\r\n`,
  };
}
