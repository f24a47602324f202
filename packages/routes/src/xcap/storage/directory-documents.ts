/**
 * XCAP documents as files under a directory, laid out as their URIs are: `<dir>/<auid>/users/<xui>/<document>`
 * and `<dir>/<auid>/global/<document>`, each segment percent-encoded (no separator, no dot segment can come
 * from a request). A write is compare-and-set: under the document's lock file (`<file>.lock`, created
 * exclusively, so several processes on one directory take turns), the file is read again, and only if it is
 * still what the snapshot saw is the new text written to a temporary file and renamed over it (atomic: a
 * reader sees the old document or the new one, never a part).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { XcapError, xcapConflict } from '../xcap-error.js';
import { etagOf, type DocumentRef, type DocumentStorage, type ListedDocument, type Snapshot } from './document-storage.js';

/** How long a write waits for another one's lock, in steps of LOCK_STEP_MS; a lock older than STALE_MS is a crashed writer's. */
const LOCK_STEPS = 400;
const LOCK_STEP_MS = 5;
const STALE_MS = 10_000;
/** How deep a user's document folders are listed for the directory. */
const MAX_DEPTH = 8;

export class DirectoryDocuments implements DocumentStorage {
  constructor(private readonly dir: string) {}

  async read(ref: DocumentRef): Promise<Snapshot> {
    const body = await readText(this.fileOf(ref));
    let otherBytes = 0;
    if (ref.scope === 'users') {
      const name = `${ref.auid}/${ref.document}`;
      for (const d of await this.list(ref.xui!)) if (`${d.auid}/${d.document}` !== name) otherBytes += d.size;
    }
    return { document: body === undefined ? undefined : { body, etag: etagOf(body) }, otherBytes, version: body };
  }

  async write(ref: DocumentRef, snapshot: Snapshot, body: string | undefined): Promise<boolean> {
    const file = this.fileOf(ref);
    await mkdir(join(file, '..'), { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOTDIR' || err.code === 'EEXIST') throw xcapConflict('constraint-failure', 'a document and a folder of documents cannot have the same name');
      throw err;
    });
    const release = await lock(`${file}.lock`);
    try {
      if ((await readText(file)) !== snapshot.version) return false;
      if (body === undefined) {
        await unlink(file);
      } else {
        const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
        await writeFile(temp, body, { flag: 'wx' });
        await rename(temp, file);
      }
      return true;
    } finally {
      await release();
    }
  }

  async list(xui: string): Promise<ListedDocument[]> {
    const out: ListedDocument[] = [];
    for (const auidDir of await names(this.dir)) {
      const home = join(this.dir, auidDir, 'users', segment(xui));
      const walk = async (folder: string, path: string[], depth: number): Promise<void> => {
        if (depth > MAX_DEPTH) return;
        for (const entry of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
          if (entry.name.endsWith('.lock') || entry.name.endsWith('.tmp')) continue;
          const full = join(folder, entry.name);
          if (entry.isDirectory()) await walk(full, [...path, entry.name], depth + 1);
          else if (entry.isFile()) {
            const body = await readText(full);
            if (body === undefined) continue;
            const document = [...path, entry.name].map((s) => decodeURIComponent(s)).join('/');
            out.push({ auid: decodeURIComponent(auidDir), document, etag: etagOf(body), size: Buffer.byteLength(body) });
          }
        }
      };
      await walk(home, [], 0);
    }
    return out;
  }

  private fileOf(ref: DocumentRef): string {
    const scope = ref.scope === 'users' ? ['users', segment(ref.xui!)] : ['global'];
    return join(this.dir, segment(ref.auid), ...scope, ...ref.document.split('/').map(segment));
  }
}

/** One path segment as a file name: percent-encoded, and never `.` or `..` (nor a lock or temporary file's suffix). */
function segment(text: string): string {
  return encodeURIComponent(text).replace(/^\./, '%2E').replace(/\.(lock|tmp)$/, '%2E$1');
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    // A folder of documents, or a path through a document, names no document.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Takes the lock file, waiting a bounded time for another writer; a lock left by a writer that died is broken. */
async function lock(path: string): Promise<() => Promise<void>> {
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
