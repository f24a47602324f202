/**
 * Send-to-connection across nodes against the same send on one node (issue 15.6): two gateways started by the
 * CLI on one Redis (`store.redis`, `node.name` a and b) with the route script ./relay-routes.ts. A receiving
 * WebSocket on node a; `local`: its senders on a too (the directory's in-process path); `across`: its senders
 * on b (`gateway.connections.send()` asks a through Redis pub/sub and waits for its reply). Both measured in
 * the same run, in short rounds alternating which goes first: messages per second with a window in flight,
 * then latency one message at a time.
 */
import type { RedisServer } from '@wsgate/test-kit';
import { median } from '../gateway/phases/idle-memory.js';
import { cpuMicros } from '../proxy/process-stats.js';
import type { CliGateway } from '../cli-gateway.js';
import { startScaleGateway } from './scale-gateway.js';
import { commandCounts, commandsPer } from './redis-commands.js';
import { SendLoad } from './send-load.js';
import type { RoundOptions } from './guarded-handshake.js';

export type SendSide = 'local' | 'across';
export const SEND_SIDES: readonly SendSide[] = ['local', 'across'];

export interface SendFigures {
  /** Median over the rounds of each figure. */
  readonly perSecond: number;
  /** One message in flight at a time, ms. */
  readonly p50: number;
  readonly p99: number;
  /** Under the throughput load (window in flight), ms. */
  readonly loadedP50: number;
  readonly loadedP99: number;
  /** CPU of both gateways per message delivered in the throughput measure, µs (/proc). */
  readonly cpuMicrosPerMessage: number;
}

export interface SendAcross {
  readonly sides: Record<SendSide, SendFigures>;
  /** Medians of each round's across / local messages per second. */
  readonly ratio: number;
  readonly lost: number;
  /** Commands Redis ran per message sent across nodes, by name (`INFO commandstats`), in the throughput measure. */
  readonly redisCommandsPerMessage: Record<string, number>;
  readonly settings: { readonly senders: number; readonly window: number; readonly bytes: number; readonly latencyMessages: number };
}

/** The value at quantile `q` of `values` (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export async function compareSendAcross(
  redis: RedisServer,
  options: RoundOptions & { senders?: number; window?: number; bytes?: number; latencyMessages?: number },
): Promise<SendAcross> {
  const settings = { senders: options.senders ?? 4, window: options.window ?? 32, bytes: options.bytes ?? 64, latencyMessages: options.latencyMessages ?? 2000 };
  const nodes: CliGateway[] = [];
  const loads: Partial<Record<SendSide, SendLoad>> = {};
  try {
    const a = await startScaleGateway({ script: 'relay-routes.js', options: {}, redisUrl: redis.url, node: 'a' });
    nodes.push(a);
    const b = await startScaleGateway({ script: 'relay-routes.js', options: {}, redisUrl: redis.url, node: 'b' });
    nodes.push(b);
    const common = { receivePort: a.port, senders: settings.senders, window: settings.window, bytes: settings.bytes };
    loads.local = await SendLoad.open({ ...common, sendPort: a.port });
    loads.across = await SendLoad.open({ ...common, sendPort: b.port });
    let lost = 0;
    for (const side of SEND_SIDES) lost += (await loads[side]!.throughput(options.warmupMs, 0)).lost;
    const rounds: Array<Record<SendSide, SendFigures>> = [];
    const commands = { calls: {} as Record<string, number>, messages: 0 };
    for (let r = 0; r < options.rounds; r++) {
      const round = {} as Record<SendSide, SendFigures>;
      for (const side of r % 2 === 0 ? SEND_SIDES : [...SEND_SIDES].reverse()) {
        const load = loads[side]!;
        const before = cpuMicros([a.primaryPid, b.primaryPid]);
        const commandsBefore = side === 'across' ? await commandCounts(redis.port) : undefined;
        const loaded = await load.throughput(options.rampMs, options.sliceMs);
        const cpu = cpuMicros([a.primaryPid, b.primaryPid]) - before;
        const turnSeconds = options.sliceMs / 1000 + options.rampMs / 1000;
        if (commandsBefore) {
          for (const [name, calls] of Object.entries(await commandCounts(redis.port))) commands.calls[name] = (commands.calls[name] ?? 0) + calls - (commandsBefore[name] ?? 0);
          commands.messages += loaded.perSecond * turnSeconds;
        }
        const alone = await load.latency(settings.latencyMessages, options.sliceMs);
        lost += loaded.lost + alone.lost;
        round[side] = {
          perSecond: loaded.perSecond,
          p50: quantile(alone.latencies, 0.5),
          p99: quantile(alone.latencies, 0.99),
          loadedP50: quantile(loaded.latencies, 0.5),
          loadedP99: quantile(loaded.latencies, 0.99),
          cpuMicrosPerMessage: cpu / Math.max(1, loaded.perSecond * turnSeconds),
        };
      }
      rounds.push(round);
    }
    const mid = (side: SendSide, key: keyof SendFigures) => median(rounds.map((r) => r[side][key]));
    const figures = (side: SendSide): SendFigures => ({
      perSecond: mid(side, 'perSecond'),
      p50: mid(side, 'p50'),
      p99: mid(side, 'p99'),
      loadedP50: mid(side, 'loadedP50'),
      loadedP99: mid(side, 'loadedP99'),
      cpuMicrosPerMessage: mid(side, 'cpuMicrosPerMessage'),
    });
    return {
      sides: { local: figures('local'), across: figures('across') },
      ratio: median(rounds.map((r) => r.across.perSecond / r.local.perSecond)),
      lost,
      redisCommandsPerMessage: commandsPer({}, commands.calls, commands.messages),
      settings,
    };
  } finally {
    for (const load of Object.values(loads)) load.close();
    await Promise.all(nodes.map((n) => n.stop()));
  }
}
