/**
 * The terminate-mode benchmark's wsgate: the sample gateway (examples/sample/routes.ts, compiled, with its
 * `sip` options as `npm start` gives them) started by ../cli-gateway.ts as the README tells users, `workers: 1`
 * on the servers' core, its connection cap raised above the idle-connection figure's 10,000. Its memory comes
 * from its management API (`POST /memory/collect`), read as a server child reports its own (server-child.ts).
 */
import { fileURLToPath } from 'node:url';
import { CliGateway } from '../cli-gateway.js';
import { SAMPLE_OPTIONS } from './sample-options.js';
import type { MemoryReport } from './server-child.js';
import type { MeasuredServer } from './servers.js';

/** The sample's route script, compiled (packages/bench/{src,dist}/gateway → examples/dist/sample). */
const SAMPLE_ROUTES = fileURLToPath(new URL('../../../../examples/dist/sample/routes.js', import.meta.url));

export interface SampleGatewayOptions {
  readonly name: string;
  /** The cores it runs on (`taskset -c`); default all. */
  readonly cpus?: string;
  /** Node flags before cli.js (`--cpu-prof`, …). */
  readonly nodeFlags?: readonly string[];
}

export class SampleGateway implements MeasuredServer {
  private constructor(
    readonly name: string,
    readonly gateway: CliGateway,
  ) {}

  static async start(options: SampleGatewayOptions): Promise<SampleGateway> {
    const gateway = await CliGateway.start({
      name: 'sample',
      script: SAMPLE_ROUTES,
      scriptOptions: SAMPLE_OPTIONS,
      workers: 1,
      config: { limits: { maxConnections: 16_000 }, log: { level: 'warn' } },
      ...(options.cpus !== undefined ? { cpus: options.cpus } : {}),
      ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
    });
    return new SampleGateway(options.name, gateway);
  }

  get port(): number {
    return this.gateway.port;
  }

  get pids(): number[] {
    return this.gateway.pids;
  }

  /** All its processes together, each after a full collection. */
  async mem(): Promise<MemoryReport> {
    const each = await this.gateway.memory(true);
    const sum = (read: (p: (typeof each)[number]) => number) => each.reduce((n, p) => n + read(p), 0);
    return { rss: sum((p) => p.rssAnon), heapUsed: sum((p) => p.heapUsed), youngRss: sum((p) => p.youngGeneration) };
  }

  stop(): Promise<void> {
    return this.gateway.stop();
  }
}
