import { defineRoutes } from '../routes.js';

// A typo in an event route's name: defineRoutes refuses it at import time.
export default defineRoutes({ 'http:reqest': () => undefined } as never);
