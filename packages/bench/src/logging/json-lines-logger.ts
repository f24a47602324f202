/**
 * The gateway's logger before pino (packages/core/src/observe/logger.ts until it moved onto pino), at `info`,
 * kept as the reference the logging benchmarks compare pino with.
 */
import type { LogFields, Logger } from '@wsgate/core';

export function jsonLinesLogger(write: (line: string) => void, bindings: LogFields = {}): Logger {
  const rank = { debug: 10, info: 20, warn: 30, error: 40 } as const;
  const min = rank.info;
  const flatten = (fields: LogFields): LogFields => {
    const out: LogFields = {};
    for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? { message: v.message, code: (v as NodeJS.ErrnoException).code, stack: v.stack } : v;
    return out;
  };
  const emit = (level: keyof typeof rank, fields: LogFields, msg?: string) => {
    if (rank[level] < min) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level, ...bindings, ...flatten(fields), msg })}\n`);
  };
  return {
    debug: (f, m) => emit('debug', f, m),
    info: (f, m) => emit('info', f, m),
    warn: (f, m) => emit('warn', f, m),
    error: (f, m) => emit('error', f, m),
    child: (more) => jsonLinesLogger(write, { ...bindings, ...more }),
    isLevelEnabled: (level) => rank[level] >= min,
  };
}

