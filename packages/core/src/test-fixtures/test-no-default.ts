import { defineRoutes } from '../routes.js';

export const routes = defineRoutes({});
