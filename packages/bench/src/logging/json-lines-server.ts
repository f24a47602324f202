/** See ./logging-server.ts. */
import { serveWithLogger } from './logging-server.js';

await serveWithLogger('json-lines');
