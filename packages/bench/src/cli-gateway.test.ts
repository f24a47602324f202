/**
 * The benchmarks' one launcher of wsgate: the CLI with the config file it writes, a cluster as `workers` says,
 * and each process's memory from the product's management API (needs a build).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { killWsgates } from '@wsgate/test-kit';
import { benchScript, CliGateway } from './cli-gateway.js';

afterAll(() => killWsgates());

describe('CliGateway (needs a build)', () => {
  it('starts `wsgate --config` with the workers configured; the management API reads every process, collected or not', async () => {
    const gateway = await CliGateway.start({ script: benchScript('auth/direct-routes.js'), workers: 2, config: { log: { level: 'warn' } } });
    try {
      expect(readFileSync(gateway.configFile, 'utf8')).toContain('workers: 2');
      expect(gateway.workerCount).toBe(2);
      expect(gateway.pids).toHaveLength(3);
      const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/`);
      const echoed = await new Promise<string>((resolve, reject) => {
        ws.once('error', reject);
        ws.once('open', () => ws.send('hello'));
        ws.once('message', (data) => resolve(String(data)));
      });
      expect(echoed).toBe('hello');
      ws.close();

      const now = await gateway.memory(false);
      expect(now.map((p) => p.pid).sort()).toEqual([...gateway.pids].sort());
      expect(now.every((p) => !p.collected)).toBe(true);
      const collected = await gateway.memory(true);
      expect(collected.map((p) => p.pid)[0]).toBe(gateway.primaryPid);
      expect(collected.map((p) => p.pid).sort()).toEqual([...gateway.pids].sort());
      for (const p of collected) {
        expect(p.collected).toBe(true);
        expect(p.rssAnon).toBeGreaterThan(p.youngGeneration);
        expect(p.heapUsed).toBeGreaterThan(0);
      }
      expect(gateway.warnings()).toEqual([]);
    } finally {
      await gateway.stop();
    }
  }, 40_000);
});
