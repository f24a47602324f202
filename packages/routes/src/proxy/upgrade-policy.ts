/**
 * Which upgrades a pool relays: WebSocket always (its 101 is checked end to end); another protocol (`h2c`,
 * `TLS/1.2`…) only when the pool names it in `upgrades`, since it becomes a raw tunnel the gateway cannot look
 * into (an h2c connection carries requests that no route ever sees). nginx relays whatever `$http_upgrade`
 * names once a location passes it on; here that is opt-in, by name.
 */
import { textReply, type ProxiedRequest, type Reply } from '@wsgate/core';
import type { ClientOffer } from './client-offer.js';

/** The answer refusing this upgrade request, or undefined when the pool relays it. */
export function upgradeRefusal(req: ProxiedRequest<any>, offer: ClientOffer, allowed: ReadonlySet<string>): Reply | undefined {
  if (req.isWebSocketUpgrade) return undefined;
  if (offer.upgrade === 'websocket') return textReply(400, 'Bad Request', 'A WebSocket upgrade is a GET request (RFC 6455 §4.1)', true);
  if (allowed.has(offer.upgrade)) return undefined;
  // Well formed, but not something this route switches to: 501, as for a feature the server does not have.
  const name = JSON.stringify(offer.upgrade);
  return textReply(501, 'Not Implemented', `Upgrade to ${name} is not proxied here (only websocket); the upstream pool may allow it: upgrades: [${name}]`, true);
}
