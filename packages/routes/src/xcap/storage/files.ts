/** Files that may be absent, and compare-and-set of one file under a lock file, atomic across processes. */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
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
    if (namesNoFile(err)) return undefined;
    throw err;
  }
}

/** Is there such a file (without reading it)? */
export async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch (err) {
    if (namesNoFile(err)) return false;
    throw err;
  }
}

/** A folder of documents, or a path through a document, names no document. */
function namesNoFile(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR';
}

/**
 * Compare-and-set of one file, under its lock file: `value` (undefined: removes the file) replaces the text only
 * if it is still `expected` (undefined: absent). Written to a temporary file and renamed over it, so a reader
 * sees the old text or the new one, never a part. True when it did.
 */
export async function replaceFile(file: string, expected: string | undefined, value: string | undefined): Promise<boolean> {
  const release = await lock(`${file}.lock`);
  try {
    if ((await readText(file)) !== expected) return false;
    if (value === undefined) {
      if (expected !== undefined) await unlink(file);
    } else {
      const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temp, value, { flag: 'wx' });
      await rename(temp, file);
    }
    return true;
  } finally {
    await release();
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
