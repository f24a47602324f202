/**
 * The index records of a directory storage: one file per record (its name the SHA-256 of the key, so any key
 * fits a file name), compare-and-set under the record's lock file, written to a temporary file and renamed, as the
 * documents are. Several processes on one directory share them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lock, readText } from './files.js';
import type { IndexRecords } from './document-storage.js';

export class FileRecords implements IndexRecords {
  constructor(private readonly dir: string) {}

  get(key: string): Promise<string | undefined> {
    return readText(this.fileOf(key));
  }

  async compareAndSet(key: string, expected: string | undefined, value: string | undefined): Promise<boolean> {
    await mkdir(this.dir, { recursive: true });
    const file = this.fileOf(key);
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

  private fileOf(key: string): string {
    return join(this.dir, createHash('sha256').update(key).digest('hex'));
  }
}
