/**
 * `@wsgate/routes`: what route scripts call or mount. One folder per concern, each with its own index.
 */
export * from './access/index.js';
export * from './auth/index.js';
export * from './proxy/index.js';
