import { digits } from './chars.js';
import { fault } from './errors.js';
import { formatParams, type Params, readIpv6, readParams } from './params.js';
import { Scanner } from './scanner.js';
import { hostport } from './uri.js';

/** One Via value (RFC 3261 §20.42, RFC 3581 rport, RFC 7118 WS/WSS). */
export interface Via {
  /** protocol-name "/" protocol-version, e.g. `SIP/2.0` */
  readonly protocol: string;
  /** as written, e.g. `WSS`, `UDP` */
  readonly transport: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly params: Params;
  readonly branch: string | undefined;
  readonly received: string | undefined;
  /** `true` for a bare `;rport` (a request asking for it), the port for `;rport=N` */
  readonly rport: number | true | undefined;
}

function readVia(sc: Scanner): Via {
  sc.ws();
  const name = sc.token('the protocol name');
  if (!sc.sep(47)) fault('expected / after the protocol name');
  const version = sc.token('the protocol version');
  if (!sc.sep(47)) fault('expected / after the protocol version');
  const transport = sc.token('the transport');
  if (!sc.ws()) fault('expected a space before sent-by');
  // sent-by = host [ COLON port ]: the host's own characters, then an optional ":" port
  const from = sc.i;
  if (sc.peek() === 91) {
    const close = sc.s.indexOf(']', sc.i);
    if (close < 0) fault('unterminated IPv6 reference');
    sc.i = close + 1;
  } else {
    while (sc.i < sc.s.length && isHostChar(sc.s.charCodeAt(sc.i))) sc.i++;
  }
  let text = sc.s.slice(from, sc.i);
  if (sc.sep(58)) {
    const portFrom = sc.i;
    while (sc.i < sc.s.length && sc.s.charCodeAt(sc.i) >= 48 && sc.s.charCodeAt(sc.i) <= 57) sc.i++;
    text += `:${sc.s.slice(portFrom, sc.i)}`;
  }
  const { host, port } = hostport(text);
  const params = readParams(sc);
  const received = params.get('received');
  const rport = params.get('rport');
  const branch = params.get('branch');
  if (received === null) fault('received without a value');
  if (branch === null) fault('branch without a value');
  if (received !== undefined) checkAddress(received);
  let rportValue: number | true | undefined;
  if (rport === null) rportValue = true;
  else if (rport !== undefined) {
    rportValue = digits(rport, 5);
    if (rportValue < 1 || rportValue > 65535) fault(`invalid rport ${rport}`);
  }
  return { protocol: `${name}/${version}`, transport, host, port, params, branch, received, rport: rportValue };
}

function isHostChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46;
}

/** via-received = IPv4address / IPv6address (a bracketed IPv6 reference is accepted too, as many send it). */
function checkAddress(v: string): void {
  if (v.charCodeAt(0) === 91) return; // checked by readParams as an IPv6 reference
  if (v.includes(':')) {
    readIpv6(new Scanner(v));
    return;
  }
  const parts = v.split('.');
  if (parts.length !== 4 || !parts.every((p) => digits(p, 3) >= 0 && digits(p, 3) <= 255)) {
    fault(`invalid received ${v}`);
  }
}

/** A Via header value: one or more comma-separated via-parms. */
export function parseVias(value: string): Via[] {
  const sc = new Scanner(value);
  const list: Via[] = [];
  do list.push(readVia(sc));
  while (sc.sep(44));
  sc.ws();
  if (!sc.done) fault(`unexpected text at column ${sc.i + 1}`);
  return list;
}

/** `SIP/2.0/WSS host:port;params` from parts, for the Via a proxy puts on top. */
export function formatVia(v: {
  protocol?: string;
  transport: string;
  host: string;
  port?: number | undefined;
  params?: Params;
}): string {
  const port = v.port === undefined ? '' : `:${v.port}`;
  return `${v.protocol ?? 'SIP/2.0'}/${v.transport} ${v.host}${port}${formatParams(v.params)}`;
}
