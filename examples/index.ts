/**
 * What other packages may take from the examples (the benchmarks, packages/bench): the sample gateway's route
 * and its SIP responder, and story S2's media site with its cookie-token route.
 */
export { default as sampleRoutes } from './sample/routes.js';
export { mediaSite, mediaSiteOptions, type MediaSite, type MediaSiteOptions } from './s2-media-basic/media-site.js';
export { default as s2MediaCookie, mediaCookieRoutes } from './s2-media-cookie/routes.js';
