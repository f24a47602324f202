// A factory that forgets defineRoutes.
export default () => ({ 'http:request': () => undefined });
