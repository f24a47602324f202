// A factory default export: called once with the gateway and script.options.
import type { RouteFactory } from '../routes.js';
import { defineRoutes } from '../routes.js';

const factory: RouteFactory = async ({ gateway, options }) => {
  await Promise.resolve();
  const marker = (gateway as unknown as { marker?: string }).marker;
  return defineRoutes({ 'http:request': (req) => req.next() }, `factory(${marker}, ${String(options.greeting)})`);
};
export default factory;
