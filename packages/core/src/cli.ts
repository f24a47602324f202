#!/usr/bin/env -S MALLOC_TRIM_THRESHOLD_=67108864 node --initial-old-space-size=64 --no-parallel-scavenge
/**
 * The `wsgate` command: flags → config → gateway → route script → listen; signals → graceful close.
 * The first line starts node with NODE_FLAGS (node-flags.ts; a test keeps the two the same).
 * Only argument parsing and exit codes live here; the work is in config/, script-loader.ts and gateway.ts.
 *
 * Output contract: logs are JSON lines on stdout, or in log.file (one `listening` line per listener once
 * started; pino's, so `--pretty` and `log.pretty` make them human-readable through pino-pretty); a
 * start-up failure is exactly one line on stderr, `wsgate: <what is wrong>: <how to fix>`, and exit code 1.
 * Once serving, an error nobody caught is a log line and the process goes on (process/stray-errors.ts).
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { applyConfigOverrides, loadConfigFile, resolveConfig, type ConfigOverrides } from './config/load.js';
import type { GatewayConfig } from './config/types.js';
import { WsgateError } from './errors.js';
import { createLogger, type LogLevel } from './observe/logger.js';
import { runCheck } from './process/check.js';
import { CtlError, runCtl } from './process/ctl.js';
import { runInit } from './process/init.js';
import { runPrimary } from './process/cluster.js';
import { serve } from './process/serve.js';

const USAGE = `Usage: wsgate [options] [SCRIPT]

Runs a wsgate WebSocket gateway.

Options:
  -c, --config FILE       config file (.yaml, .yml or .json); without one, a listener on 127.0.0.1:8080
  -s, --script FILE       route script (.ts, .js); replaces the config's script.path; may be given as SCRIPT
  -l, --listen HOST:PORT  listen there instead of on the config's listeners; repeatable; IPv6 as [::1]:8080
      --log-level LEVEL   debug, info, warn, error or silent; replaces the config's log.level
      --pretty            human-readable log lines for a terminal (needs pino-pretty); sets log.pretty
  -w, --workers N|auto    worker processes sharing the listeners; replaces the config's workers
  -t, --test              check instead of starting: config, the files it names, the route script, its
                          types (when its project has TypeScript); opens no port; exit 0 or 1
  -h, --help              show this help and exit
  -v, --version           show the version and exit

Logs are JSON lines on stdout (or log.file). A start-up failure is one line on stderr and exit code 1.
Once serving, an error a route script leaves uncaught is logged and the gateway goes on.
SIGTERM or SIGINT closes gracefully (shutdown.grace seconds, then exit 0); a second signal exits at once (1).
SIGHUP reloads config, route script and certificates; open WebSockets stay; an invalid config is refused.
SIGUSR1 reopens the access log and log.file at their paths, after log rotation (as nginx).

       wsgate check [options] [SCRIPT]   the same as wsgate -t [options] [SCRIPT]
       wsgate init [DIR]                 make a gateway project in DIR: package.json, routes.ts and its test, wsgate.yaml
       wsgate ctl [--help] COMMAND ...   drive a running gateway through its management API
`;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
const DEFAULT_LISTENER = { host: '127.0.0.1', port: 8080 };
const HELP_HINT = 'run "wsgate --help" for the options';

/** A mistake on the command line; reported like the other start-up errors. */
class UsageError extends Error {}

interface CommandLine {
  help: boolean;
  /** `-t`: check, do not start. */
  test: boolean;
  version: boolean;
  configFile?: string;
  overrides: ConfigOverrides;
}

function parseCommandLine(argv: string[]): CommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        script: { type: 'string', short: 's' },
        listen: { type: 'string', short: 'l', multiple: true },
        'log-level': { type: 'string' },
        pretty: { type: 'boolean' },
        workers: { type: 'string', short: 'w' },
        test: { type: 'boolean', short: 't' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const option = /'([^']+)'/.exec(message)?.[1];
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) throw new UsageError(`unknown option ${option}: ${HELP_HINT}`);
    throw new UsageError(`${message.split('. ')[0]!.replace(/\.$/, '')}: ${HELP_HINT}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`too many arguments (${positionals.join(' ')}): give one route script`);
  if (positionals.length === 1 && values.script !== undefined) {
    throw new UsageError('two route scripts given: give it once, as --script FILE or as the last argument');
  }
  const scriptPath = values.script ?? positionals[0];
  const logLevel = values['log-level'];
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new UsageError(`--log-level ${logLevel}: unknown level: use one of ${LOG_LEVELS.join(', ')}`);
  }
  return {
    help: values.help ?? false,
    test: values.test ?? false,
    version: values.version ?? false,
    ...(values.config !== undefined ? { configFile: values.config } : {}),
    overrides: {
      ...(values.listen ? { listeners: values.listen.map(parseListen) } : {}),
      ...(scriptPath !== undefined ? { scriptPath } : {}),
      ...(logLevel !== undefined ? { logLevel: logLevel as LogLevel } : {}),
      ...(values.pretty ? { logPretty: true } : {}),
      ...(values.workers !== undefined ? { workers: parseWorkers(values.workers) } : {}),
    },
  };
}

function parseWorkers(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 256) throw new UsageError(`--workers ${value}: give a number from 1 to 256, or auto`);
  return Number(value);
}

/** `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT` (host 127.0.0.1). */
function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]\s]+)\]:|([^\s:[\]]*):)?(\d+)$/.exec(value);
  if (!match) {
    const hint = (value.match(/:/g) ?? []).length > 1 ? 'put an IPv6 address in brackets, such as [::1]:8080' : 'such as 127.0.0.1:8080 or [::1]:8080';
    throw new UsageError(`--listen ${value}: expected HOST:PORT, ${hint}`);
  }
  const port = Number(match[3]);
  if (port > 65535) throw new UsageError(`--listen ${value}: the port must be an integer from 0 to 65535`);
  return { host: match[1] || match[2] || DEFAULT_LISTENER.host, port };
}

function loadConfig(command: CommandLine): Promise<GatewayConfig> | GatewayConfig {
  if (command.configFile !== undefined) return loadConfigFile(command.configFile, command.overrides);
  return resolveConfig(applyConfigOverrides({ listeners: [DEFAULT_LISTENER] }, command.overrides), process.cwd());
}

function version(): string {
  // ../package.json from both src/cli.ts and dist/cli.js.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Prints the one stderr line and exits 1. */
function fail(error: unknown): never {
  let message: string;
  if (error instanceof WsgateError || error instanceof UsageError || error instanceof CtlError) message = error.message;
  else {
    const e = error instanceof Error ? error : new Error(String(error));
    message = `unexpected ${e.name}: ${e.message}: this is a wsgate bug, please report it with the command and config`;
  }
  process.stderr.write(`wsgate: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'ctl') return void process.stdout.write(`${await runCtl(argv.slice(1))}\n`);
  if (argv[0] === 'init') process.exit(await runInit(argv.slice(1)));
  // Parsed before the signal handlers below, so that a check (which takes a start's flags) stops on Ctrl-C.
  const checking = argv[0] === 'check';
  const command = parseCommandLine(checking ? argv.slice(1) : argv);
  if (command.help) return void process.stdout.write(USAGE);
  if (command.version) return void process.stdout.write(`wsgate ${version()}\n`);
  if (checking || command.test) process.exit(await runCheck(await loadConfig(command), command.configFile));

  // Installed first, so that a signal during start-up waits for it and then closes what was started.
  let stopSignal: NodeJS.Signals | undefined;
  let stop: ((signal: NodeJS.Signals) => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) {
      process.stderr.write(`wsgate: second ${signal} while closing: exiting at once\n`);
      process.exit(1);
    }
    stopSignal = signal;
    stop?.(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // SIGUSR1 reopens the log files (serve.ts), as nginx's. Node's default for it opens the inspector on
  // 127.0.0.1:9229: any handler replaces that, this one from the start, before there is anything to reopen.
  process.on('SIGUSR1', () => {});

  const config = await loadConfig(command);
  const { level, pretty, file } = config.log;
  const logger = createLogger({ level, pretty: pretty ?? false, ...(file !== undefined ? { file } : { fd: 1 }) });
  // The start and stop lines are the command's own output: shown at every level but silent.
  const announce = logger.atLevel(level === 'silent' ? 'silent' : 'info');
  const options = { config, loadConfig: async () => loadConfig(command), logger, announce };
  const workers = config.workers === 'auto' ? availableParallelism() : config.workers;
  const close = cluster.isPrimary && workers > 1 ? await runPrimary(options, workers) : await serve(options);

  stop = (signal) => {
    if (!cluster.isWorker) announce.info({ signal, grace: config.shutdown.grace }, 'stopping');
    close().then(() => {
      if (!cluster.isWorker) announce.info({}, 'stopped');
      process.exit(0);
    }, fail);
  };
  if (stopSignal) stop(stopSignal);
}

main(process.argv.slice(2)).catch(fail);
