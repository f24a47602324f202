/**
 * XCAP documents as files under a directory, laid out as their URIs are: `<dir>/<auid>/users/<xui>/<document>`
 * and `<dir>/<auid>/global/<document>`, each segment percent-encoded (no separator, no dot segment can come
 * from a request). A write is compare-and-set: under the document's lock file (`<file>.lock`, created
 * exclusively, so several processes on one directory take turns), the file is read again, and only if it is
 * still what the snapshot saw is the new text written to a temporary file and renamed over it (atomic: a
 * reader sees the old document or the new one, never a part).
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { xcapConflict } from '../xcap-error.js';
import { etagOf, type DocumentRef, type DocumentStorage, type IndexRecords, type ListedDocument, type Snapshot } from './document-storage.js';
import { FileRecords } from './file-records.js';
import { isFile, readText, replaceFile } from './files.js';

/** How deep a user's document folders are listed for the directory. */
const MAX_DEPTH = 8;

export class DirectoryDocuments implements DocumentStorage {
  /** Under `<dir>/.index/` (no AUID starts with a dot, so no usage's folder is ever named so). */
  readonly records: IndexRecords;

  constructor(private readonly dir: string) {
    this.records = new FileRecords(join(dir, '.index'));
  }

  async holders(auid: string, document: string): Promise<string[]> {
    const users = join(this.dir, segment(auid), 'users');
    const out: string[] = [];
    for (const xui of await names(users)) {
      const ref: DocumentRef = { auid, scope: 'users', xui: decodeURIComponent(xui), document };
      // Only whether the file is there: the composer reads each holder's document anyway.
      if (await isFile(this.fileOf(ref))) out.push(ref.xui!);
    }
    return out;
  }

  async read(ref: DocumentRef): Promise<Snapshot> {
    const body = await readText(this.fileOf(ref));
    // Every document of the user is read for it: only a write asks.
    const otherBytes = async () => {
      let bytes = 0;
      if (ref.scope !== 'users') return bytes;
      const name = `${ref.auid}/${ref.document}`;
      for (const d of await this.list(ref.xui!)) if (`${d.auid}/${d.document}` !== name) bytes += d.size;
      return bytes;
    };
    return { document: body === undefined ? undefined : { body, etag: etagOf(body) }, otherBytes, version: body };
  }

  async write(ref: DocumentRef, snapshot: Snapshot, body: string | undefined): Promise<boolean> {
    const file = this.fileOf(ref);
    await mkdir(join(file, '..'), { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOTDIR' || err.code === 'EEXIST') throw xcapConflict('constraint-failure', 'a document and a folder of documents cannot have the same name');
      throw err;
    });
    return replaceFile(file, snapshot.version as string | undefined, body);
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

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
