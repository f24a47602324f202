/**
 * The SIP benchmark's wsgate, started by ../cli-gateway.ts as the README tells users (`wsgate --config`,
 * one process), with the route script wsgate-routes.ts (compiled) and its options.
 */
import { benchScript, CliGateway } from '../cli-gateway.js';

export interface WsgateSipOptions {
  readonly port: number;
  readonly domain: string;
  readonly htdigest: string;
}

export function startWsgateSip(o: WsgateSipOptions): Promise<CliGateway> {
  return CliGateway.start({
    name: 'sip',
    port: o.port,
    script: benchScript('sip/wsgate-routes.js'),
    scriptOptions: { domain: o.domain, htdigest: o.htdigest },
    // dataDir: the gateway's folder (relative to the config file).
    config: { dataDir: './data', log: { level: 'info' } },
    // BENCH_CPU_PROF=<dir>: a V8 CPU profile of the gateway, written there when it stops.
    ...(process.env.BENCH_CPU_PROF ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] } : {}),
  });
}
