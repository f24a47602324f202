/** See ./logging-server.ts: the sample gateway logging at `warn`, no line per connection. */
import { serveWithLogger } from './logging-server.js';

await serveWithLogger('none');
