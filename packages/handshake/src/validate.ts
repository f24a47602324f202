import { acceptKey, keyProblem } from './accept.js';
import { parseExtensions } from './extension.js';
import { negotiateSubprotocol, parseSubprotocols } from './subprotocol.js';
import { HeaderSyntaxError, isFieldValue, isToken, parseTokenList, quote } from './token-list.js';
import type {
  HandshakeAcceptance,
  HandshakeCheck,
  HandshakeDecision,
  HandshakeOptions,
  HandshakeRejection,
  HandshakeRequest,
} from './types.js';

type Headers = Readonly<Record<string, string>>;

const NO_HEADERS: Headers = Object.freeze({});
const ALLOW_GET: Headers = Object.freeze({ Allow: 'GET' });
const VERSION_13: Headers = Object.freeze({ 'Sec-WebSocket-Version': '13' });

/**
 * Decides an RFC 6455 §4.2.1 opening handshake without touching the socket: either the acceptance the
 * upgrade step commits, or the rejection `writeRejection` sends. The guards run in a fixed order and the
 * first failure wins, so a client fixing its request one error at a time always sees the next one.
 *
 * Status codes follow RFC 6455 and Kamailio: 405 (with `Allow: GET`) for another method, 426 (with
 * `Sec-WebSocket-Version: 13`) for a missing or other version, 400 for everything else, including a
 * subprotocol mismatch (with `Sec-WebSocket-Protocol` listing what the route speaks).
 *
 * @throws TypeError when `options` themselves are wrong (a bad extra header, a non-token subprotocol, an
 *   unknown CORS mode): that is a bug in the route, not in the request, so it must not become a 400.
 */
export function validateHandshake(req: HandshakeRequest, options: HandshakeOptions): HandshakeDecision {
  // Misuse is checked first so that it surfaces on the first request, whatever that request looks like.
  checkOptions(options);
  const h = req.headers;

  if (req.method !== 'GET') {
    return reject('method', 405, `Method ${req.method ?? '(none)'} not allowed, a WebSocket handshake uses GET`, ALLOW_GET);
  }
  if (req.httpVersionMajor < 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor < 1)) {
    return reject('http-version', 400, `HTTP/1.1 or later required, got HTTP/${req.httpVersionMajor}.${req.httpVersionMinor}`);
  }

  const counts = countHeaders(req.rawHeaders);
  if (h.host === undefined) return reject('host', 400, 'Missing Host header');
  if (counts.host > 1) return reject('host', 400, `Host header must appear once, got ${counts.host}`);
  if (h.host.trim() === '') return reject('host', 400, 'Empty Host header');

  const upgrade = h.upgrade;
  if (upgrade === undefined) return reject('upgrade', 400, 'Missing Upgrade header, expected websocket');
  const upgradeProblem = lacksToken(upgrade, 'websocket', 'Upgrade', 'websocket');
  if (upgradeProblem !== undefined) return reject('upgrade', 400, upgradeProblem);
  const connection = h.connection;
  if (connection === undefined) return reject('connection', 400, 'Missing Connection header, expected Upgrade');
  const connectionProblem = lacksToken(connection, 'upgrade', 'Connection', 'Upgrade');
  if (connectionProblem !== undefined) return reject('connection', 400, connectionProblem);

  const key = h['sec-websocket-key'];
  if (counts.key > 1) return reject('key', 400, `Sec-WebSocket-Key must appear once, got ${counts.key}`);
  if (key === undefined) return reject('key', 400, 'Missing Sec-WebSocket-Key header');
  const problem = keyProblem(key);
  if (problem !== undefined) return reject('key', 400, `Sec-WebSocket-Key must be base64 of 16 bytes: ${problem}`);

  const version = h['sec-websocket-version'];
  if (counts.version > 1) return reject('version', 400, `Sec-WebSocket-Version must appear once, got ${counts.version}`);
  if (version === undefined) return reject('version', 426, 'Missing Sec-WebSocket-Version header, expected 13', VERSION_13);
  if (version !== '13') return reject('version', 426, `Unsupported Sec-WebSocket-Version ${quote(version)}, expected 13`, VERSION_13);

  const protocolHeader = h['sec-websocket-protocol'];
  let offered: readonly string[] = NO_PROTOCOLS;
  if (protocolHeader !== undefined) {
    try {
      offered = parseSubprotocols(protocolHeader);
    } catch (err) {
      return rejectSyntax('subprotocol', err);
    }
  }
  const choice = negotiateSubprotocol(offered, options.protocols, options.requireProtocol);
  if (!choice.ok) {
    const supported = options.protocols?.join(', ');
    return reject('subprotocol', 400, choice.reason, supported ? { 'Sec-WebSocket-Protocol': supported } : NO_HEADERS);
  }

  const extensions = h['sec-websocket-extensions'];
  if (extensions !== undefined) {
    try {
      parseExtensions(extensions);
    } catch (err) {
      return rejectSyntax('extensions', err);
    }
  }

  return new Acceptance(key, choice.protocol, offered, responseHeaders(options, h.origin));
}

class Acceptance implements HandshakeAcceptance {
  readonly ok = true as const;
  constructor(
    readonly key: string,
    readonly protocol: string | undefined,
    readonly offeredProtocols: readonly string[],
    readonly headers: Readonly<Record<string, string>>,
  ) {}

  /** On demand: the Upgrader's 101 is written by `ws`, which hashes the key itself. */
  get accept(): string {
    return acceptKey(this.key);
  }
}

const NO_PROTOCOLS: readonly string[] = Object.freeze([]);

function reject(check: HandshakeCheck, status: number, reason: string, headers: Headers = NO_HEADERS): HandshakeRejection {
  return { ok: false, status, reason, headers, check };
}

function rejectSyntax(check: HandshakeCheck, err: unknown): HandshakeRejection {
  if (err instanceof HeaderSyntaxError) return reject(check, 400, err.message);
  throw err;
}

/**
 * Why the token list `value` lacks `lower` (compared case-insensitively), or undefined when it holds it.
 * The common single-token value skips the parser.
 */
function lacksToken(value: string, lower: string, header: string, display: string): string | undefined {
  if (value.length === lower.length && value.toLowerCase() === lower) return undefined;
  let tokens: string[];
  try {
    tokens = parseTokenList(value, header, { product: header === 'Upgrade' });
  } catch (err) {
    if (err instanceof HeaderSyntaxError) return err.message;
    throw err;
  }
  for (const token of tokens) if (token.length === lower.length && token.toLowerCase() === lower) return undefined;
  return `${header} header must contain ${display}, got ${quote(value)}`;
}

/**
 * How often the fields the handshake needs once were received. node keeps the first `Host` and joins repeated
 * `Sec-WebSocket-*` fields with ", ", so only the raw list tells.
 */
function countHeaders(raw: readonly string[]): { host: number; key: number; version: number } {
  let host = 0;
  let key = 0;
  let version = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Lengths first: most fields are none of the three, and this avoids lower-casing them.
    if (name.length === 4) {
      if (name.toLowerCase() === 'host') host++;
    } else if (name.length === 17) {
      if (name.toLowerCase() === 'sec-websocket-key') key++;
    } else if (name.length === 21) {
      if (name.toLowerCase() === 'sec-websocket-version') version++;
    }
  }
  return { host, key, version };
}

/**
 * CORS first, then the route's own headers, which replace a CORS header of the same name. Without CORS the
 * route's (already validated, read-only) record is returned as is: no allocation on the hot path.
 */
function responseHeaders(options: HandshakeOptions, origin: string | undefined): Headers {
  const cors = options.cors;
  const extra = options.headers;
  let out: Record<string, string>;
  if (cors === '*') {
    out = { 'Access-Control-Allow-Origin': '*' };
  } else if (Array.isArray(cors) && origin !== undefined && cors.includes(origin)) {
    out = { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  } else {
    return extra ?? NO_HEADERS;
  }
  if (extra !== undefined) {
    for (const name in extra) {
      const lower = name.toLowerCase();
      for (const existing in out) if (existing.toLowerCase() === lower) delete out[existing];
      out[name] = extra[name]!;
    }
  }
  return out;
}

/** Fields the 101 already carries or must not carry (RFC 9110 §8.6, §6.1): adding one would corrupt it. */
const RESERVED = new Set([
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'transfer-encoding',
]);


function checkOptions(options: HandshakeOptions): void {
  const { headers, protocols, cors } = options;
  if (headers !== undefined) {
    for (const name in headers) {
      if (!isToken(name)) {
        throw new TypeError(`handshake headers: ${JSON.stringify(name)} is not a valid header name (RFC 9110 token)`);
      }
      if (RESERVED.has(name.toLowerCase())) {
        throw new TypeError(`handshake headers: ${name} is set by the handshake itself; remove it`);
      }
      const value = headers[name];
      if (typeof value !== 'string' || !isFieldValue(value)) {
        throw new TypeError(
          `handshake headers: the value of ${name} must be a string without CR, LF or other control characters`,
        );
      }
    }
  }
  if (protocols !== undefined) {
    for (const protocol of protocols) {
      if (typeof protocol !== 'string' || !isToken(protocol)) {
        throw new TypeError(`handshake protocols: ${JSON.stringify(protocol)} is not a valid subprotocol (RFC 9110 token)`);
      }
    }
  }
  if (options.requireProtocol === true && (protocols === undefined || protocols.length === 0)) {
    throw new TypeError('handshake requireProtocol needs a non-empty protocols list to choose from');
  }
  const maxPayload = options.maxPayload;
  if (maxPayload !== undefined && (!Number.isSafeInteger(maxPayload) || maxPayload < 0)) {
    throw new TypeError(`handshake maxPayload must be a non-negative integer number of bytes, got ${String(maxPayload)}`);
  }
  if (cors !== undefined && cors !== 'off' && cors !== '*' && !Array.isArray(cors)) {
    throw new TypeError(`handshake cors must be 'off', '*' or a list of origins, got ${JSON.stringify(cors)}`);
  }
}
