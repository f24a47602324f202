/**
 * The SIP benchmark's wsgate, started as the README tells users: `node packages/core/dist/cli.js --config
 * <file>`, with a config written into a temp folder that loads wsgate-routes.js (compiled beside this file).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onAllCores, startWsgate, type WsgateProcess } from '@wsgate/test-kit';

const CLI = fileURLToPath(new URL('../../../core/dist/cli.js', import.meta.url));
// The compiled script beside the compiled starter; the TypeScript source when run from src (tests), which the CLI compiles.
const ROUTES = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './wsgate-routes.ts' : './wsgate-routes.js', import.meta.url));



export interface WsgateSipOptions {
  readonly port: number;
  readonly domain: string;
  readonly htdigest: string;
}

export interface WsgateSip {
  readonly process: WsgateProcess;
  readonly pid: number;
  readonly configFile: string;
  stop(): Promise<void>;
}

export async function startWsgateSip(o: WsgateSipOptions): Promise<WsgateSip> {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-sip-bench-'));
  const configFile = join(dir, 'wsgate.yaml');
  writeFileSync(
    configFile,
    [
      '# Written by packages/bench/src/sip/wsgate.ts for the SIP benchmark.',
      'listeners:',
      '  - name: ws',
      '    host: 127.0.0.1',
      `    port: ${o.port}`,
      `dataDir: ${JSON.stringify(join(dir, 'data'))}`,
      'script:',
      `  path: ${JSON.stringify(ROUTES)}`,
      '  options:',
      `    domain: ${JSON.stringify(o.domain)}`,
      `    htdigest: ${JSON.stringify(o.htdigest)}`,
      'log:',
      '  level: info',
      '',
    ].join('\n'),
  );
  // On every core, as an operator runs it: the load generator may have pinned this process to one.
  const [command, ...args] = onAllCores([process.execPath, CLI, '--config', configFile]);
  let proc: WsgateProcess;
  try {
    proc = await startWsgate(command!, args, { timeoutMs: 20_000 });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const stop = async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { process: proc, pid: proc.child.pid ?? 0, configFile, stop };
}
