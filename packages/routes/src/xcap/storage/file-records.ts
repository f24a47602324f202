/**
 * The index records of a directory storage: one file per record (its name the SHA-256 of the key, so any key
 * fits a file name), compare-and-set under the record's lock file, written to a temporary file and renamed, as the
 * documents are. Several processes on one directory share them.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readText, replaceFile } from './files.js';
import type { IndexRecords } from './document-storage.js';

export class FileRecords implements IndexRecords {
  constructor(private readonly dir: string) {}

  get(key: string): Promise<string | undefined> {
    return readText(this.fileOf(key));
  }

  async compareAndSet(key: string, expected: string | undefined, value: string | undefined): Promise<boolean> {
    await mkdir(this.dir, { recursive: true });
    return replaceFile(this.fileOf(key), expected, value);
  }

  private fileOf(key: string): string {
    return join(this.dir, createHash('sha256').update(key).digest('hex'));
  }
}
