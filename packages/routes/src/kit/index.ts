/** What every route module is built from: the guard contract and its combinators. */
export { allOf, whenAdmitted, type Guard } from './guard.js';
export { isStoreUnavailable, STORE_RETRY_AFTER, StoreOutage, storePolicyOption, type StoreUnavailablePolicy } from './store-outage.js';
