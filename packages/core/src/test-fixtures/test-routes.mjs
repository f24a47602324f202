// A JavaScript route script. Plain .mjs cannot import the core's .ts sources, so it builds by hand what
// defineRoutes() makes; real scripts import { defineRoutes } from '@wsgate/core'.
export default Object.freeze({
  [Symbol.for('wsgate.routes')]: true,
  name: 'routes',
  handlers: Object.freeze({ 'http:request': (req) => req.next() }),
});
