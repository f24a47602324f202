/**
 * One gateway of the scale benchmark, started by ../cli-gateway.ts as the README tells users: one process
 * (`workers: 1`, the default), a route script of this folder with its `script.options`, and
 * `store: { redis: { url } }` with `node: { name }` when it shares a Redis.
 */
import { benchScript, CliGateway } from '../cli-gateway.js';

export interface ScaleGatewayOptions {
  /** A route script of this folder, by its compiled name (`guarded-routes.js`). */
  readonly script: string;
  /** Its `script.options`. */
  readonly options: Readonly<Record<string, unknown>>;
  /** `store.redis.url`; absent: the memory store. */
  readonly redisUrl?: string;
  /** `node.name` (with `redisUrl`). */
  readonly node?: string;
  /** A folder for a `--cpu-prof` profile of the gateway, written when it stops (SCALE_CPU_PROF). */
  readonly profileDir?: string;
}

export function startScaleGateway(o: ScaleGatewayOptions): Promise<CliGateway> {
  return CliGateway.start({
    name: 'scale',
    script: benchScript(`scale/${o.script}`),
    scriptOptions: o.options,
    ...(o.profileDir !== undefined ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] } : {}),
    // `log.level: warn`: no line per connection.
    config: {
      keepalive: { mechanism: 'none' },
      log: { level: 'warn' },
      ...(o.redisUrl !== undefined ? { store: { redis: { url: o.redisUrl } } } : {}),
      ...(o.node !== undefined ? { node: { name: o.node } } : {}),
    },
  });
}
