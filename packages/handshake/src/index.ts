/**
 * `@wsgate/handshake`: the RFC 6455 server handshake, as Kamailio's `ws_handle_handshake()` does it.
 * Pure parsers and `validateHandshake` decide; `writeRejection` and `Upgrader` are the only steps that write.
 */
export type {
  CorsMode,
  HandshakeCheck,
  HandshakeAcceptance,
  HandshakeDecision,
  HandshakeOptions,
  HandshakeRejection,
  HandshakeRequest,
  PerMessageDeflateOptions,
} from './types.js';
export { acceptKey, keyProblem } from './accept.js';
export { endOnce, endOnceOnClose } from './end-once.js';
export { HeaderSyntaxError, isFieldValue, isTchar, isToken, parseTokenList, type TokenListOptions } from './token-list.js';
export { negotiateSubprotocol, parseSubprotocols, type SubprotocolChoice } from './subprotocol.js';
export { parseExtensions, type ExtensionOffer } from './extension.js';
export { validateHandshake } from './validate.js';
export { formatRejection, writeRejection } from './reject.js';
export { formatRawResponse, writeRawResponse, REJECTION_TIMEOUT_MS, type RawResponseHeaders } from './raw-response.js';
export {
  DEFAULT_MAX_PAYLOAD,
  HandshakeAbortedError,
  HandshakeRefusedError,
  Upgrader,
  type UpgraderOptions,
} from './upgrade.js';
