// Routes written without defineRoutes.
export default {
  'http:request': () => undefined,
};
