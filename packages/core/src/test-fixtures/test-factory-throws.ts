import type { RouteFactory } from '../routes.js';

const factory: RouteFactory = ({ options }) => {
  if (!options.secret) throw new Error('options.secret is required');
  throw new Error('unreachable in tests');
};
export default factory;
