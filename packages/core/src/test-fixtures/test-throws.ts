import { defineRoutes } from '../routes.js';

const table: Record<string, number> = {};
if (table.port === undefined) throw new Error('no port in the table');
export default defineRoutes({});
