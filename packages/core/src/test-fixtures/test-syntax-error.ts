import { defineRoutes } from '../routes.js';

const broken: number = ;
export default defineRoutes({});
