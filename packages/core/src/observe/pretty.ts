/**
 * pino-pretty, for `log.pretty` and `--pretty`: an optional peer dependency, so that the JSON lines an
 * operator ships to a collector cost no install. Loaded here, only when pretty lines are asked for.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { WsgateError } from '../errors.js';

interface PinoPretty {
  prettyFactory(options: { colorize: boolean; ignore: string }): (line: string) => string;
}

/**
 * Turns one JSON line into its human form. pino-pretty is looked for beside the gateway's own install, then
 * in the working directory's project (where `npm install pino-pretty` puts it).
 * @throws WsgateError `WSGATE_CONFIG_INVALID` naming `log.pretty` when it is in neither.
 */
export function prettifier(colorize: boolean): (line: string) => string {
  for (const from of [import.meta.url, join(process.cwd(), 'package.json')]) {
    let pretty: PinoPretty;
    try {
      pretty = createRequire(from)('pino-pretty') as PinoPretty;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') continue;
      throw err;
    }
    // pid and hostname are the same on every line a terminal shows.
    return pretty.prettyFactory({ colorize, ignore: 'pid,hostname' });
  }
  throw new WsgateError(
    'WSGATE_CONFIG_INVALID',
    'log.pretty: pino-pretty is not installed: install it beside the gateway (npm install pino-pretty), or leave log.pretty and --pretty off for JSON lines',
  );
}
