/** Routing by path and by host, as nginx's `location` and `server_name`. */
export { locations, Locations, type LocationHandler, type LocationMatch, type LocationSpec } from './locations.js';
export { virtualHosts, VirtualHosts, type SiteRoute, type SiteSpec } from './virtual-hosts.js';
