/**
 * `@wsgate/sip`: SIP messages carried in WebSocket messages (RFC 3261, RFC 7118). A strict parser with typed,
 * lazily read headers, a serializer that writes untouched headers back byte for byte, and the answers to
 * messages it refuses.
 */
export { SipSyntaxError } from './errors.js';
export { parseMessage, DEFAULT_MAX_HEADERS, DEFAULT_MAX_MESSAGE_SIZE, type ParseOptions } from './parse.js';
export { serialize, serializeHead, type SerializeOptions } from './serialize.js';
export { ParseError, SipRequest, SipResponse, type SipMessage } from './message.js';
export { field, SipHeaders, splitList, type HeaderField } from './headers.js';
export { canonicalName, headerKey } from './header-names.js';
export { formatUri, parseUri, type OtherUri, type SipUri, type Uri } from './uri.js';
export { formatParams, type Params } from './params.js';
export {
  formatNameAddr,
  parseContacts,
  parseNameAddr,
  parseNameAddrList,
  tagOf,
  type Contact,
  type NameAddr,
} from './name-addr.js';
export { formatVia, parseVias, type Via } from './via.js';
export { parseAuth, parseCSeq, parseMediaType, type AuthValue, type CSeq, type MediaType } from './values.js';
export { quote, unquote } from './scanner.js';
export { createResponse, errorResponse, newTag, reasonPhrase, type ResponseOptions } from './respond.js';
export { frameStats, readFrame, type FrameResult, type FrameStats } from './frame.js';
export { registrar, type ListedRegistration, type Registrar, type RegistrarOptions, type Registration, type RegistrationFilter } from './registrar/registrar.js';
export { COUNTED_METHODS, sipMetrics, type SipMetrics } from './observe/sip-metrics.js';
export { registrationsView } from './observe/registrations-view.js';
export type { Binding } from './registrar/bindings.js';
export { sipService, type SipService, type SipServiceOptions } from './service.js';
export { sipProxy, FlowTokens, bestResponse, type HereHandler, type ProxyOptions, type ProxyStats, type SipProxy } from './proxy/index.js';
export { sipDigest, type SipDigestOptions } from './auth/sip-digest.js';
export type { SipAuthenticator, SipAuthResult } from './auth/authenticator.js';
