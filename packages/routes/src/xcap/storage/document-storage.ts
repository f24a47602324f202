/**
 * Where XCAP documents live, behind one small contract: read a snapshot, write it back only if nothing changed
 * since (compare-and-set), list a user's documents. The route module retries a write that lost a race on a
 * fresh snapshot, so two writers never lose each other's changes.
 */
import { createHash } from 'node:crypto';

/** Which document: a user's (`scope: 'users'`, with `xui`) or a usage's global one. */
export interface DocumentRef {
  readonly auid: string;
  readonly scope: 'users' | 'global';
  readonly xui: string | undefined;
  /** The path inside the user's or global folder, decoded (`index`, `lists/work`). */
  readonly document: string;
}

export interface StoredDocument {
  readonly body: string;
  /** The strong entity tag, quoted (RFC 9110 §8.8.3): a digest of the body. */
  readonly etag: string;
}

/** What a read saw: the document (if any), and what a write must still find to succeed. */
export interface Snapshot {
  readonly document: StoredDocument | undefined;
  /**
   * Bytes the other documents sharing this document's record hold (a user's quota). A function: only a write asks,
   * and a storage may have to read the user's other documents to answer.
   */
  otherBytes(): Promise<number>;
  /** @internal The storage's own version of what was read. */
  readonly version: unknown;
}

/** One of a user's documents, for the xcap-directory. */
export interface ListedDocument {
  readonly auid: string;
  readonly document: string;
  readonly etag: string;
  readonly size: number;
}

/**
 * Small records kept beside the documents, changed by compare-and-set (the core Store's own contract): the
 * index of values unique on the server (RFC 4826 §4.4.5), one record per value naming the document holding it.
 */
export interface IndexRecords {
  get(key: string): Promise<string | undefined>;
  /** Sets `value` (undefined: removes) only if the record is `expected` now (undefined: absent); true when it did. */
  compareAndSet(key: string, expected: string | undefined, value: string | undefined): Promise<boolean>;
}

export interface DocumentStorage {
  /** The index records, in the same place as the documents (so gateways sharing those share these). */
  readonly records: IndexRecords;
  /**
   * The XUIs that hold a document `document` of `auid` (RFC 4826 §4.4.8's global index is made from them).
   * May name a few that deleted theirs lately: read each.
   */
  holders(auid: string, document: string): Promise<string[]>;
  read(ref: DocumentRef): Promise<Snapshot>;
  /**
   * Writes `body` (undefined: deletes the document) if the document's record is still as `snapshot` saw it;
   * false when another write came first (read again and retry).
   */
  write(ref: DocumentRef, snapshot: Snapshot, body: string | undefined): Promise<boolean>;
  /** A user's documents, every usage. */
  list(xui: string): Promise<ListedDocument[]>;
}

/** The entity tag of a document's text. */
export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}
