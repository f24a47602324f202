/**
 * Errors nobody catches — a rejected promise nobody awaits, a throw in a timer or an event handler a route
 * script set — are logged and counted, and the process goes on serving, as it does for a route that throws.
 * Without this, node ends the process with exit code 1 and every connection with it; with one worker,
 * nothing starts it again.
 *
 * The `wsgate` command installs it (process/serve.ts, process/cluster.ts) once the gateway serves, so an
 * error during start-up still ends the command with exit code 1. `new Gateway()` never installs it: an
 * embedding application owns its process and decides for itself (docs/reference.md, "Embedding").
 */
import { inspect } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../observe/logger.js';

/** Which of node's process events it came through. */
export type StrayKind = 'uncaughtException' | 'unhandledRejection';

export interface StrayErrorOptions {
  readonly logger: Logger;
  /** The route script in force (a reload may change it): named in the line when the error's stack runs through it. */
  readonly scriptPath?: () => string | undefined;
  /** Where `wsgate_uncaught_errors_total{kind}` is registered; every error is counted, logged or not. */
  readonly registry?: Registry;
}

/**
 * Lines per second at most: a script that throws from a 1 ms interval must not flood the log, nor loop when
 * writing the line itself fails (stdout gone: EPIPE comes back as another uncaught error). The rest are
 * counted, and the next line says how many were left out.
 */
const LINES_PER_SECOND = 10;

/** Installs the two process handlers; returns the function that removes them. */
export function keepServingThroughStrayErrors(options: StrayErrorOptions): () => void {
  const counter = options.registry
    ? new Counter({ name: 'wsgate_uncaught_errors_total', help: 'Errors nobody caught (logged; the process went on), by kind', labelNames: ['kind'], registers: [options.registry] })
    : undefined;
  counter?.inc({ kind: 'uncaughtException' }, 0);
  counter?.inc({ kind: 'unhandledRejection' }, 0);
  let windowStart = 0;
  let lines = 0;
  let suppressed = 0;

  const handle = (kind: StrayKind, err: unknown): void => {
    counter?.inc({ kind });
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      lines = 0;
    }
    if (lines >= LINES_PER_SECOND) {
      suppressed++;
      return;
    }
    lines++;
    const script = scriptOf(err, options.scriptPath?.());
    const fields = {
      kind,
      ...(script !== undefined ? { script } : {}),
      // A rejection's reason may be anything; inspect() copes with cycles, which the JSON line would not.
      err: err instanceof Error ? err : inspect(err, { depth: 2, breakLength: Infinity }),
      ...(suppressed > 0 ? { suppressed } : {}),
    };
    suppressed = 0;
    try {
      options.logger.error(fields, 'uncaught error; still serving');
    } catch {
      // Nowhere left to say it; throwing from this handler would end the process after all.
    }
  };
  const onException = (err: unknown) => handle('uncaughtException', err);
  const onRejection = (reason: unknown) => handle('unhandledRejection', reason);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}

/** The script's path when a frame of the error's stack is in it, as a path (source-mapped, tsx) or a file URL. */
function scriptOf(err: unknown, file: string | undefined): string | undefined {
  const stack = err instanceof Error ? err.stack : undefined;
  if (file === undefined || typeof stack !== 'string') return undefined;
  const url = pathToFileURL(file).href;
  // The character after the name ends it, so that routes.ts does not match routes.tsx.
  return [`${file}:`, `${url}:`, `${url}?`].some((frame) => stack.includes(frame)) ? file : undefined;
}
