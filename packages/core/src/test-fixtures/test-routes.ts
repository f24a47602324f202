// A route script as users write them. Fixtures are named test-*.ts so tsc leaves them out of the build.
import { defineRoutes } from '../routes.js';

const greeting: string = 'hello from a TypeScript route script';

export default defineRoutes({
  'http:request'(req) {
    return req.reply(200, 'OK', 'text/plain', greeting);
  },
});
