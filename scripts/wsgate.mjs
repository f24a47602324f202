#!/usr/bin/env -S MALLOC_TRIM_THRESHOLD_=67108864 node --initial-old-space-size=64 --no-parallel-scavenge
// `npx wsgate …` in this checkout: the root package's bin, which runs the built packages/core/dist/cli.js
// (the first line is cli.ts's, NODE_FLAGS). It always exists, so npx can link it even before the first build;
// then it says what to do instead of failing with node's module error.
import { existsSync } from 'node:fs';

const cli = new URL('../packages/core/dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('wsgate: this checkout is not built yet: run "npm start" (or "npx tsc -b") first\n');
  process.exit(1);
}
await import(cli.href);
