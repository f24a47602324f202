/**
 * `@wsgate/test-kit`: what the workspace's tests share (private, never published). Real sockets and real
 * peers, no mocks: a gateway on an ephemeral port, upstreams, raw-socket clients, certificates, fixtures.
 */
export { sleep, until } from './wait.js';
export {
  CLIENT_ACCEPT,
  CLIENT_KEY,
  exchange,
  freePort,
  maskedFrame,
  rawExchange,
  readUntilClose,
  upgradeRequest,
  waitForPort,
  type ExchangeOptions,
  type RawResult,
  type ReadOptions,
  type UpgradeRequestOptions,
} from './wire.js';
export { startTestGateway, type TestGateway } from './gateway.js';
export { startHandshakeServer, type HandshakeServer, type HandshakeServerOptions } from './handshake-server.js';
export {
  makeCertificates,
  startProxyGateway,
  startUpstream,
  type Certificates,
  type ProxyGateway,
  type Upstream,
  type UpstreamOptions,
} from './peers.js';
export { attempt, attributesOf, guardRoutes, testGateways, type Attempt } from './guard.js';
export { APACHE_HTPASSWD, HASHED_HTPASSWD, HTDIGEST } from './credentials.js';
export { freeUdpPort, udpClient, udpNode, type UdpClient, type UdpNode } from './udp.js';
export { fixturePath } from './fixtures.js';
export { onAllCores, stopChild } from './children.js';
export { killNginxes, Nginx, NGINX, type NginxOptions } from './nginx.js';
export { killWsgates, runToEnd, startWsgate, type CommandResult, type StartWsgateOptions, type WsgateProcess } from './wsgate-process.js';
export { seededRandom } from './seeded-random.js';
export { thrown } from './thrown.js';
export { collectedHeap } from './heap.js';
export { killRedises, REDIS_SERVER, RedisServer, type RedisServerOptions } from './redis.js';
export { storeBehaviour } from './store-behaviour.js';
export { digestAuthorization, digestChallenges, type DigestAnswer, type DigestChallenge } from './digest-client.js';
export {
  RFC4825_INSERT_EXAMPLE,
  RFC4825_NAMESPACES,
  RFC4826_LISTS,
  RFC4826_MARKETING_SERVICE,
  RFC4826_MYBUDDIES_SERVICE,
  RFC4826_RLS_SERVICES,
  xcapRequest,
  type XcapAnswer,
  type XcapRequest,
} from './xcap-client.js';
