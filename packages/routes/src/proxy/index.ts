/** The proxy: `req.proxy(pool)` targets that relay WebSocket and HTTP requests to upstreams (see README.md). */
export { upstream, upstreams, UpstreamPool, type NodeStatus, type UpstreamTarget } from './pool.js';
