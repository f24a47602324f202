import type { Gateway } from '../gateway.js';
import type { Routes } from './routes.js';

/** What a route script may export as default instead of `Routes`: called once, after config is loaded. */
export type RouteFactory = (context: {
  gateway: Gateway;
  options: Readonly<Record<string, unknown>>;
}) => Routes<any> | readonly Routes<any>[] | Promise<Routes<any> | readonly Routes<any>[]>;
