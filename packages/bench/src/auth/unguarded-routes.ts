/**
 * The auth benchmark's `bare` route script: story S2's cookie-token site (examples/s2-media-cookie: page,
 * locations, upgrade header checks, echo) with no checks at all (`allOf()` of no guards admits every request),
 * so that beside the example's own script only the checks' cost differs. No upstream: WebSockets are echoed.
 */
import type { RouteFactory } from '@wsgate/core';
import { mediaCookieRoutes, mediaSite, mediaSiteOptions } from '@wsgate/examples';
import { allOf } from '@wsgate/routes';

const unguardedRoutes: RouteFactory = ({ gateway, options }) =>
  mediaCookieRoutes(mediaSite({ ...mediaSiteOptions(options, true), access: allOf(), logger: gateway.logger }));

export default unguardedRoutes;
