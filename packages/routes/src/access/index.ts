/** Access-control route modules: each a factory returning a `Guard`. */
export { origin, type OriginGuard, type OriginOptions } from './origin.js';
export { parseOrigin, type ParsedOrigin } from './origin-pattern.js';
export { host, type HostOptions } from './host.js';
export { rateLimit, type RateLimitOptions } from './rate-limit.js';
