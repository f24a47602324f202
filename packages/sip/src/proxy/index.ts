export { sipProxy, type HereHandler, type ProxyOptions, type ProxyStats, type SipProxy } from './proxy.js';
export { FlowTokens } from './flow-token.js';
export { bestResponse } from './best-response.js';
