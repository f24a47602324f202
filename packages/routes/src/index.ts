/**
 * `@wsgate/routes`: what route scripts call or mount. One folder per concern, each with its own index:
 * kit (the guard contract), access, auth, routing, upstream, proxy, stream, xcap.
 */
export * from './kit/index.js';
export * from './access/index.js';
export * from './auth/index.js';
export * from './routing/index.js';
export * from './upstream/index.js';
export * from './proxy/index.js';
export * from './stream/index.js';
export * from './xcap/index.js';
