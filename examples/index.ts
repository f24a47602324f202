/**
 * What other packages may take from the examples (the benchmarks, packages/bench): the sample gateway's route
 * (the logger-cost servers start it from code), and story S2's media site with the routes around it (the auth
 * benchmark's site without checks). The benchmarks start the examples' own scripts as files.
 */
export { default as sampleRoutes } from './sample/routes.js';
export { mediaSite, mediaSiteOptions, type MediaSite, type MediaSiteOptions } from './s2-media-basic/media-site.js';
export { mediaCookieRoutes } from './s2-media-cookie/routes.js';
