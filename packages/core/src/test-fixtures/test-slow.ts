// Answers after 10 s: an HTTP request in flight that keeps a graceful shutdown waiting.
import { defineRoutes } from '../routes.js';

export default defineRoutes({
  async 'http:request'(req) {
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    return req.reply(200, 'OK');
  },
});
