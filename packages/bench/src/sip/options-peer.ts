/**
 * Kamailio answering SIP OPTIONS over WebSocket, for the gateway benchmark's SIP figure (../gateway/run.ts):
 * the config of kamailio.ts, which answers an OPTIONS to its domain (the benchmark frame's `sip:example.com`,
 * as the sample gateway's SIP service does) with 200 before any routing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@wsgate/test-kit';
import { Kamailio } from './kamailio.js';
import { makeUsers, writeHtdigest } from './users.js';

/** @param cpus a `taskset -c` list, to run on the same cores as the servers it is compared with */
export async function startOptionsKamailio(cpus?: string): Promise<Kamailio> {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-kamailio-options-'));
  const htdigest = join(dir, 'htdigest');
  writeHtdigest(htdigest, 'example.com', makeUsers(1));
  try {
    // The users are in the config once it is written: the file is not needed after the start.
    return await Kamailio.start({ port: await freePort(), domain: 'example.com', htdigest, ...(cpus !== undefined ? { cpus } : {}) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
