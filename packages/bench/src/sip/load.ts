/**
 * The SIP benchmark's load generator, a child process of run.ts (never the servers' process): phones on
 * their own WebSockets, driven by jobs the parent sends over IPC, each answered with what it counted.
 *
 * - `register`: each phone registers again and again (REGISTER → 401 → REGISTER with Authorization → 200, a
 *   fresh challenge each time, as JsSIP re-registers); counted are the 200s that end in the counted window.
 * - `message`: each pair's first phone sends MESSAGEs to the second, one at a time (MESSAGE → 407 → MESSAGE
 *   with Proxy-Authorization → relayed → the callee's 200 → relayed back); counted are the 200s in the window,
 *   with the round trip of each, from the first send to the 200.
 * - `hold`: registers every phone and keeps them connected until `release` (the memory figure).
 */
import { Phone } from './phone.js';

export interface User {
  readonly user: string;
  readonly password: string;
}

interface Target {
  readonly url: string;
  readonly domain: string;
}

export type LoadJob =
  | ({ readonly cmd: 'register'; readonly users: readonly User[]; readonly warmupMs: number; readonly seconds: number } & Target)
  | ({ readonly cmd: 'message'; readonly pairs: ReadonlyArray<readonly [User, User]>; readonly warmupMs: number; readonly seconds: number } & Target)
  | ({ readonly cmd: 'hold'; readonly users: readonly User[]; readonly concurrency: number } & Target)
  | { readonly cmd: 'release' };

export interface RateResult {
  readonly cmd: 'register' | 'message';
  /** Transactions that ended in 200 within the counted window. */
  readonly count: number;
  readonly seconds: number;
  /** Transactions that ended otherwise (a status other than 200, a timeout), with the first reason. */
  readonly failures: number;
  readonly firstFailure?: string;
  /** MESSAGE round trips in the window, microseconds (message jobs only). */
  readonly latencies: number[];
  /** This process's CPU time over the window's wall time: near 1 means the load generator was the limit. */
  readonly cpuShare: number;
}

export type LoadReply =
  | RateResult
  | { readonly cmd: 'hold'; readonly registered: number }
  | { readonly cmd: 'release'; readonly closed: number }
  | { readonly cmd: 'error'; readonly error: string };

/** Each phase opens its phones this many at a time. */
const OPEN_CONCURRENCY = 50;

async function openAll(target: Target, users: readonly User[], concurrency: number, register: boolean): Promise<Phone[]> {
  const phones: Phone[] = new Array(users.length);
  let next = 0;
  const worker = async () => {
    while (next < users.length) {
      const i = next++;
      const phone = await Phone.open({ ...target, ...users[i]! });
      phones[i] = phone;
      if (register) {
        const status = await phone.register();
        if (status !== 200) throw new Error(`${phone.user}: REGISTER answered ${status}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, users.length) }, worker));
  } catch (err) {
    await Promise.all(phones.filter(Boolean).map((p) => p.close()));
    throw err;
  }
  return phones;
}

/**
 * Runs `step(i)` in a closed loop on each of `lanes` lanes until the window ends, counting the successful
 * steps that end inside [start + warmup, start + warmup + seconds].
 */
async function closedLoop(
  lanes: number,
  step: (lane: number) => Promise<number>,
  warmupMs: number,
  seconds: number,
  latencies?: number[],
): Promise<Omit<RateResult, 'cmd'>> {
  const start = performance.now();
  const from = start + warmupMs;
  const until = from + seconds * 1000;
  let count = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  let cpuAtFrom: NodeJS.CpuUsage | undefined;
  const cpuTimer = setTimeout(() => (cpuAtFrom = process.cpuUsage()), warmupMs);
  let cpuAtUntil: NodeJS.CpuUsage | undefined;
  const cpuEnd = setTimeout(() => (cpuAtUntil = process.cpuUsage()), warmupMs + seconds * 1000);
  const lane = async (i: number) => {
    while (performance.now() < until) {
      const t0 = performance.now();
      let status: number;
      try {
        status = await step(i);
      } catch (err) {
        status = 0;
        firstFailure ??= err instanceof Error ? err.message : String(err);
      }
      const t1 = performance.now();
      if (t1 < from || t1 > until) continue;
      if (status === 200) {
        count++;
        latencies?.push(Math.round((t1 - t0) * 1000));
      } else {
        failures++;
        if (status !== 0) firstFailure ??= `answered ${status}`;
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, i) => lane(i)));
  clearTimeout(cpuTimer);
  clearTimeout(cpuEnd);
  const used = cpuAtFrom && cpuAtUntil ? cpuAtUntil.user + cpuAtUntil.system - cpuAtFrom.user - cpuAtFrom.system : 0;
  return {
    count,
    seconds,
    failures,
    ...(firstFailure !== undefined ? { firstFailure } : {}),
    latencies: latencies ?? [],
    cpuShare: used / (seconds * 1e6),
  };
}

let held: Phone[] = [];

async function run(job: LoadJob): Promise<LoadReply> {
  switch (job.cmd) {
    case 'register': {
      const phones = await openAll(job, job.users, OPEN_CONCURRENCY, false);
      try {
        const r = await closedLoop(phones.length, (i) => phones[i]!.register(), job.warmupMs, job.seconds);
        return { cmd: 'register', ...r };
      } finally {
        await Promise.all(phones.map((p) => p.close()));
      }
    }
    case 'message': {
      const users = job.pairs.flat();
      const phones = await openAll(job, users, OPEN_CONCURRENCY, true);
      const text = 'hello from the benchmark';
      try {
        const latencies: number[] = [];
        const r = await closedLoop(job.pairs.length, (i) => phones[2 * i]!.message(phones[2 * i + 1]!.user, text), job.warmupMs, job.seconds, latencies);
        return { cmd: 'message', ...r };
      } finally {
        await Promise.all(phones.map((p) => p.close()));
      }
    }
    case 'hold': {
      held = await openAll(job, job.users, job.concurrency, true);
      return { cmd: 'hold', registered: held.length };
    }
    case 'release': {
      const closed = held.length;
      await Promise.all(held.map((p) => p.close()));
      held = [];
      return { cmd: 'release', closed };
    }
  }
}

if (process.send) {
  process.on('message', (job: LoadJob) => {
    run(job).then(
      (reply) => process.send!(reply),
      (err: unknown) => process.send!({ cmd: 'error', error: err instanceof Error ? err.message : String(err) } satisfies LoadReply),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
