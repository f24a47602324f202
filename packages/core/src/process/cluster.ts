/**
 * The cluster primary (`workers: N | auto`): forks the workers, which share the listeners through
 * node:cluster; serves metrics gathered from all of them and the management API over all of them; replaces
 * a worker that dies; reloads and stops them all.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { AggregatorRegistry } from 'prom-client';
import { formatHostPort } from '../config/load.js';
import { WsgateError } from '../errors.js';
import { withAllocatorEnv, withNodeFlags } from './node-flags.js';
import { ClusterControl } from '../management/cluster-control.js';
import { checkAccessLogPath } from '../observe/access-log.js';
import type { Readiness } from '../management/health.js';
import { startOperations } from '../management/operations.js';
import { announceOperations, type ServeOptions } from './serve.js';
import { keepServingThroughStrayErrors } from './stray-errors.js';

/** A worker that dies within this long of its start counts as a crash loop: wait longer before the next. */
const QUICK_DEATH_MS = 10_000;

export async function runPrimary({ config, loadConfig, logger, announce }: ServeOptions, count: number): Promise<() => Promise<void>> {
  // Ready workers, by number: what the management API asks. Every forked process, ready or not: what stop() ends.
  const workers = new Map<number, Worker>();
  const forked = new Set<Worker>();
  let stopping = false;
  let started = false;
  let quickDeaths = 0;
  /** When SIGUSR1 last came: a worker that was starting then reopens its files once ready. */
  let reopenedAt = 0;

  // Checked here too: one line and exit 1, rather than each worker failing to open it.
  if (config.accessLog) await checkAccessLogPath(config.accessLog.path);
  // The workers accept on the shared listening sockets themselves: node's default (round-robin) has the primary
  // accept every connection and pass it over IPC, which cost ~110 µs of primary CPU per proxied handshake and
  // capped the rate at 0.7× (issue 17). Set before the first fork, when node freezes the policy.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  // Workers run under wsgate's V8 settings whatever node flags started the primary (node-flags.ts says why).
  cluster.setupPrimary({ execArgv: withNodeFlags(process.execArgv) });
  // One set of TLS session-ticket keys for every worker, a replaced one included (listener.ts says why).
  const ticketKeys = randomBytes(48).toString('hex');
  const fork = (index: number): Promise<void> => {
    // the allocator's setting too (node-flags.ts): glibc reads it when the worker starts
    const worker = cluster.fork({ ...withAllocatorEnv(process.env), WSGATE_WORKER_INDEX: String(index), WSGATE_TLS_TICKET_KEYS: ticketKeys });
    const bornAt = Date.now();
    forked.add(worker);
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { wsgate?: string; addresses?: Array<{ name: string; host: string; port: number; tls: boolean }> }) => {
        if (m?.wsgate !== 'ready') return;
        workers.set(index, worker);
        if (reopenedAt >= bornAt) worker.send({ wsgate: 'reopen' });
        if (index === 1 && !started) {
          for (const a of m.addresses ?? []) announce.info({ name: a.name, url: `${a.tls ? 'wss' : 'ws'}://${formatHostPort(a.host, a.port)}`, workers: count }, 'listening');
        }
        resolve();
      });
      worker.once('exit', (code) => reject(new WsgateError('WSGATE_LISTEN', `worker ${index} exited with ${code} while starting (its error is above)`)));
    });
    worker.on('exit', (code, signal) => {
      forked.delete(worker);
      if (workers.get(index) === worker) workers.delete(index);
      if (stopping) return;
      quickDeaths = Date.now() - bornAt < QUICK_DEATH_MS ? quickDeaths + 1 : 0;
      const delay = Math.min(30_000, 100 * 2 ** quickDeaths);
      logger.error({ worker: index, pid: worker.process.pid, code, signal, restartInMs: delay }, 'worker died; starting a new one');
      setTimeout(() => {
        if (!stopping) fork(index).catch((err: unknown) => logger.error({ worker: index, err }, 'replacement worker failed to start'));
      }, delay).unref();
    });
    return ready;
  };

  // SIGUSR1 reopens the workers' log files: told over IPC, each logs its `reopened logs` line; one still
  // starting is told once it is ready (above).
  process.on('SIGUSR1', () => {
    reopenedAt = Date.now();
    for (const w of workers.values()) if (w.isConnected()) w.send({ wsgate: 'reopen' });
    // The primary's own lines, when they go to log.file (observe/logger.ts).
    try {
      logger.reopen?.();
    } catch (err) {
      logger.error({ err }, 'cannot reopen a log file; the one in use stays in use');
    }
  });
  try {
    await Promise.all(Array.from({ length: count }, (_, i) => fork(i + 1)));
    started = true;
  } catch (err) {
    stopping = true;
    for (const w of forked) w.process.kill('SIGKILL');
    throw err;
  }

  // Validate first, in the primary: an invalid config is refused before any worker is asked.
  const control: ClusterControl = new ClusterControl(
    () => workers,
    async () => {
      await loadConfig();
      await control.all('reload');
    },
    config.store !== undefined,
  );
  const aggregator = new AggregatorRegistry();
  // Ready while a worker serves the listeners and the cluster is not shutting down.
  const readiness = (): Readiness => {
    if (stopping) return { ready: false, detail: 'shutting down' };
    if (workers.size === 0) return { ready: false, detail: `no worker serving (0 of ${count})` };
    return { ready: true, detail: `${workers.size} of ${count} workers` };
  };
  const operations = await startOperations(
    config,
    control,
    async () => ({ contentType: aggregator.contentType, text: await aggregator.clusterMetrics() }),
    readiness,
  );
  announceOperations(announce, config, operations);
  // The primary runs no script, but a stray error here would take every worker down with it. Each worker
  // installs its own (serve.ts), with the metric.
  keepServingThroughStrayErrors({ logger });
  process.on('SIGHUP', () =>
    control.reload().then(
      () => announce.info({ signal: 'SIGHUP', workers: workers.size }, 'reloaded'),
      (err: unknown) => logger.error({ err }, 'reload refused; the running config stays'),
    ),
  );

  return async () => {
    stopping = true;
    const exits = [...forked].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const w of forked) w.process.kill('SIGTERM');
    // Each worker drains within its grace period; one that hangs past it is killed.
    const deadline = setTimeout(() => {
      for (const w of forked) w.process.kill('SIGKILL');
    }, (config.shutdown.grace + 5) * 1000);
    await Promise.all(exits);
    clearTimeout(deadline);
    // Closed last: /readyz answers 503 while the workers drain.
    await operations.close();
  };
}
