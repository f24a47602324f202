/** Port relays for UDP and TCP, as nginx's `stream` module. */
export { streamRelay, type StreamRelay, type StreamRelayOptions, type StreamServerOptions } from './stream-relay.js';
