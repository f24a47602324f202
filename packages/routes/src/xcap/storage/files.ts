/** Reading a file that may be absent, and the lock files that make a read-check-write atomic across processes. */
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { XcapError } from '../xcap-error.js';

/** How long a write waits for another one's lock, in steps of LOCK_STEP_MS; a lock older than STALE_MS is a crashed writer's. */
const LOCK_STEPS = 400;
const LOCK_STEP_MS = 5;
const STALE_MS = 10_000;

/** The file's text; undefined when there is no such file. */
export async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    // A folder of documents, or a path through a document, names no document.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Takes the lock file, waiting a bounded time for another writer; a lock left by a writer that died is broken. */
export async function lock(path: string): Promise<() => Promise<void>> {
  for (let i = 0; i < LOCK_STEPS; i++) {
    try {
      const handle = await open(path, 'wx');
      await handle.close();
      return () => unlink(path).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = await stat(path).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > STALE_MS) await unlink(path).catch(() => undefined);
      else await sleep(LOCK_STEP_MS);
    }
  }
  throw new XcapError(503, `another write held the document's lock for more than ${(LOCK_STEPS * LOCK_STEP_MS) / 1000} s; try again`, undefined, { 'Retry-After': '1' });
}
