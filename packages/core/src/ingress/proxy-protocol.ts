/**
 * The PROXY protocol (HAProxy, versions 1 and 2): an L4 balancer in front of the gateway opens each TCP
 * connection with a preface naming the client's address, before any HTTP or TLS byte.
 *
 * `parseProxyPreface` is the pure parser; `readProxyPreface` reads one from a socket and hands the socket
 * on with whatever followed the preface put back.
 */
import { isIP, type Socket } from 'node:net';
import { type ClientAddress } from '../vocabulary.js';

/** The 12 bytes every v2 preface starts with. */
export const PROXY_V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The longest v1 line, CRLF included (the spec's own figure). */
const V1_MAX_LENGTH = 107;

/** What a buffer holding the start of a connection comes to. */
export type PrefaceResult =
  | { readonly status: 'incomplete' }
  | { readonly status: 'invalid'; readonly reason: string }
  | {
      readonly status: 'done';
      readonly version: 1 | 2;
      /** Bytes the preface took; what follows is the client's first HTTP or TLS byte. */
      readonly length: number;
      /**
       * The client's address. Absent for `LOCAL` (v2: the balancer's own health check), `UNKNOWN` (v1) and
       * address families other than IPv4/IPv6: the connection's own peer address stands.
       */
      readonly source?: ClientAddress;
    };

const INCOMPLETE: PrefaceResult = Object.freeze({ status: 'incomplete' });
const invalid = (reason: string): PrefaceResult => ({ status: 'invalid', reason });

/** Parses the preface at the start of `data` (pure). `incomplete` asks for more bytes. */
export function parseProxyPreface(data: Buffer): PrefaceResult {
  if (startsLike(data, PROXY_V2_SIGNATURE)) return data.length < 16 ? INCOMPLETE : parseV2(data);
  if (startsLike(data, V1_PREFIX)) return data.length < V1_PREFIX.length ? INCOMPLETE : parseV1(data);
  return invalid('not a PROXY protocol preface');
}

/** Does `data` begin with `prefix`, or with as much of it as `data` holds? */
function startsLike(data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length);
  return data.compare(prefix, 0, n, 0, n) === 0;
}

/** `PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n`, or `PROXY UNKNOWN…\r\n`. */
function parseV1(data: Buffer): PrefaceResult {
  const end = data.indexOf('\r\n', 0, 'latin1');
  if (end < 0 || end + 2 > V1_MAX_LENGTH) {
    return data.length >= V1_MAX_LENGTH ? invalid(`v1 line longer than ${V1_MAX_LENGTH} bytes`) : INCOMPLETE;
  }
  const line = data.toString('latin1', 0, end);
  const length = end + 2;
  const parts = line.split(' ');
  if (parts[1] === 'UNKNOWN') return { status: 'done', version: 1, length };
  if (parts[1] !== 'TCP4' && parts[1] !== 'TCP6') return invalid(`v1: unknown protocol "${printable(parts[1] ?? '')}"`);
  if (parts.length !== 6) return invalid('v1: expected "PROXY TCP4|TCP6 <source> <destination> <source port> <destination port>"');
  const family = parts[1] === 'TCP4' ? 4 : 6;
  const [, , source, destination, sourcePort, destinationPort] = parts as [string, string, string, string, string, string];
  if (isIP(source) !== family || isIP(destination) !== family) return invalid(`v1: addresses are not IPv${family}`);
  const port = v1Port(sourcePort);
  if (port === undefined || v1Port(destinationPort) === undefined) return invalid('v1: a port is not a number from 0 to 65535');
  return { status: 'done', version: 1, length, source: { ip: source, port } };
}

function v1Port(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/** Signature, version/command, family/transport, length, addresses, then TLVs (skipped). */
function parseV2(data: Buffer): PrefaceResult {
  const versionCommand = data[12]!;
  if (versionCommand >> 4 !== 2) return invalid(`v2: unsupported version ${versionCommand >> 4}`);
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid(`v2: unknown command ${command}`);
  const familyByte = data[13]!;
  const addressLength = data.readUInt16BE(14);
  const length = 16 + addressLength;
  if (data.length < length) return INCOMPLETE;
  if (command === 0) return { status: 'done', version: 2, length }; // LOCAL
  const family = familyByte >> 4;
  if ((familyByte & 0x0f) > 2) return invalid(`v2: unknown transport ${familyByte & 0x0f}`);
  if (family === 1) {
    if (addressLength < 12) return invalid('v2: IPv4 address block shorter than 12 bytes');
    return { status: 'done', version: 2, length, source: { ip: [...data.subarray(16, 20)].join('.'), port: data.readUInt16BE(24) } };
  }
  if (family === 2) {
    if (addressLength < 36) return invalid('v2: IPv6 address block shorter than 36 bytes');
    return { status: 'done', version: 2, length, source: { ip: formatIPv6(data.subarray(16, 32)), port: data.readUInt16BE(48) } };
  }
  if (family === 0 || family === 3) return { status: 'done', version: 2, length }; // UNSPEC, UNIX
  return invalid(`v2: unknown address family ${family}`);
}

/** RFC 5952 text for 16 bytes: lower case, the longest run of two or more zero groups as `::`. */
export function formatIPv6(bytes: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 20);
}

// ——— on a socket ———

const kSource = Symbol.for('wsgate.proxyProtocol.source');
type Marked = { [kSource]?: ClientAddress; _parent?: Marked };

/**
 * The client address a PROXY preface gave for the connection `socket` belongs to; undefined when there was
 * none. A TLS socket is looked through to the TCP socket it wraps (`_parent`, which node sets for sockets
 * handed to a TLS server).
 */
export function proxiedSource(socket: object): ClientAddress | undefined {
  const s = socket as Marked;
  return s[kSource] ?? s._parent?.[kSource];
}

export interface ReadPrefaceOptions {
  /** How long the preface may take; then the socket is dropped. */
  readonly timeoutMs: number;
  /** The socket, preface consumed and the bytes after it put back, paused: hand it to the HTTP server. */
  readonly onReady: (socket: Socket) => void;
  /** The socket was dropped: a malformed preface, a timeout, or the peer left. */
  readonly onFailure: (socket: Socket, reason: string) => void;
}

/** The longest a v2 preface can be: its length field is 16 bits. */
const MAX_PREFACE = 16 + 0xffff;

/** Reads the preface from a fresh connection; the socket is destroyed on failure. */
export function readProxyPreface(socket: Socket, options: ReadPrefaceOptions): void {
  let buffered: Buffer = Buffer.alloc(0);
  const fail = (reason: string) => {
    cleanup();
    socket.destroy();
    options.onFailure(socket, reason);
  };
  const onData = (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const result = parseProxyPreface(buffered);
    if (result.status === 'incomplete') {
      if (buffered.length > MAX_PREFACE) fail('preface too long');
      return;
    }
    if (result.status === 'invalid') return fail(result.reason);
    // Pause before the listener goes, or node would emit (and lose) data nobody listens to.
    socket.pause();
    cleanup();
    if (result.source) (socket as Marked)[kSource] = result.source;
    if (buffered.length > result.length) socket.unshift(buffered.subarray(result.length));
    options.onReady(socket);
  };
  const onTimeout = () => fail(`no complete preface within ${options.timeoutMs} ms`);
  const onError = (err: Error) => fail(`socket error: ${err.message}`);
  const onClose = () => fail('connection closed before the preface ended');
  const timer = setTimeout(onTimeout, options.timeoutMs);
  const cleanup = () => {
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('error', onError);
    socket.removeListener('close', onClose);
  };
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('close', onClose);
}
