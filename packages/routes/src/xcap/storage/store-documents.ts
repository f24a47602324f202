/**
 * XCAP documents in the core `Store` (the gateway's memory store, or Redis shared by several gateways). One
 * record per user (`wsgate:xcap:users:<xui>`) holds all of that user's documents, and one per usage its global
 * documents (`wsgate:xcap:global:<auid>`): a write is one `compareAndSet` of the record, so it is atomic, a
 * user's directory (xcap-directory) is always consistent with the documents, and two writers racing on one
 * record cannot both win — the loser reads again. Beside them: the index records (`wsgate:xcap:index:<key>`), and
 * per usage and document name the users who hold one (`wsgate:xcap:holders:<auid>:<document>`, for a composed
 * global document): a user is added before their first write of such a document and removed when it is deleted.
 */
import type { Store } from '@wsgate/core';
import { randomBytes } from 'node:crypto';
import { XcapError } from '../xcap-error.js';
import { etagOf, type DocumentRef, type DocumentStorage, type IndexRecords, type ListedDocument, type Snapshot } from './document-storage.js';

/** How many times a holders record is tried again after losing a race. */
const MAX_TRIES = 32;
/**
 * A holder added less than this long ago may be a write still under way: a delete leaves it (the list is then a
 * superset, which readers allow for).
 */
const FRESH_MS = 60_000;

/** A record: documents by `<auid>/<document>` (users) or `<document>` (global). */
type Documents = Record<string, string>;

interface Version {
  readonly raw: string | undefined;
  readonly docs: Documents;
}

export class StoreDocuments implements DocumentStorage {
  readonly records: IndexRecords;

  constructor(
    private readonly store: Store,
    /** The usages and document names whose holders are listed (those a global document is composed from). */
    private readonly tracked: (auid: string, document: string) => boolean = () => false,
    private readonly prefix = 'wsgate:xcap:',
  ) {
    this.records = {
      get: (key) => store.get(`${prefix}index:${key}`),
      compareAndSet: (key, expected, value) => store.compareAndSet(`${prefix}index:${key}`, expected, value),
    };
  }

  async holders(auid: string, document: string): Promise<string[]> {
    return Object.keys(parseRecord(await this.store.get(this.holdersKey(auid, document))));
  }

  async read(ref: DocumentRef): Promise<Snapshot> {
    const raw = await this.store.get(this.keyOf(ref));
    const docs = parseRecord(raw);
    const name = nameIn(ref);
    const body = Object.hasOwn(docs, name) ? docs[name] : undefined;
    const otherBytes = async () => {
      let bytes = 0;
      for (const [n, b] of Object.entries(docs)) if (n !== name) bytes += Buffer.byteLength(b);
      return bytes;
    };
    const version: Version = { raw, docs };
    return { document: body === undefined ? undefined : { body, etag: etagOf(body) }, otherBytes, version };
  }

  async write(ref: DocumentRef, snapshot: Snapshot, body: string | undefined): Promise<boolean> {
    const { raw, docs } = snapshot.version as Version;
    const next: Documents = { ...docs };
    if (body === undefined) delete next[nameIn(ref)];
    else next[nameIn(ref)] = body;
    const value = Object.keys(next).length === 0 ? undefined : JSON.stringify(next);
    const listed = ref.scope === 'users' && this.tracked(ref.auid, ref.document);
    const creating = listed && snapshot.document === undefined && body !== undefined;
    // Listed before it exists, so that a reader of the holders never misses it.
    if (creating) await this.changeHolders(ref, (holders) => ({ ...holders, [ref.xui!]: `${Date.now()}.${randomBytes(6).toString('hex')}` }));
    if (!(await this.store.compareAndSet(this.keyOf(ref), raw, value))) return false;
    if (listed && body === undefined) {
      await this.changeHolders(ref, (holders) => {
        const since = Number.parseInt(holders[ref.xui!] ?? '', 10);
        if (!(Date.now() - since >= FRESH_MS)) return undefined;
        const rest = { ...holders };
        delete rest[ref.xui!];
        return rest;
      });
    }
    return true;
  }

  /** Changes the holders record of `ref`'s usage and name by compare-and-set; `change` returns undefined to leave it. */
  private async changeHolders(ref: DocumentRef, change: (holders: Documents) => Documents | undefined): Promise<void> {
    const key = this.holdersKey(ref.auid, ref.document);
    for (let i = 0; i < MAX_TRIES; i++) {
      const raw = await this.store.get(key);
      const next = change(parseRecord(raw));
      if (next === undefined) return;
      if (await this.store.compareAndSet(key, raw, Object.keys(next).length === 0 ? undefined : JSON.stringify(next))) return;
    }
    throw new XcapError(503, `the list of holders of ${ref.auid}/${ref.document} kept changing under ${MAX_TRIES} attempts to write it; try again`, undefined, { 'Retry-After': '1' });
  }

  private holdersKey(auid: string, document: string): string {
    return `${this.prefix}holders:${encodeURIComponent(auid)}:${encodeURIComponent(document)}`;
  }

  async list(xui: string): Promise<ListedDocument[]> {
    const docs = parseRecord(await this.store.get(`${this.prefix}users:${encodeURIComponent(xui)}`));
    return Object.entries(docs).map(([name, body]) => {
      const slash = name.indexOf('/');
      return { auid: name.slice(0, slash), document: name.slice(slash + 1), etag: etagOf(body), size: Buffer.byteLength(body) };
    });
  }

  private keyOf(ref: DocumentRef): string {
    return ref.scope === 'users' ? `${this.prefix}users:${encodeURIComponent(ref.xui!)}` : `${this.prefix}global:${encodeURIComponent(ref.auid)}`;
  }
}

function nameIn(ref: DocumentRef): string {
  return ref.scope === 'users' ? `${ref.auid}/${ref.document}` : ref.document;
}

function parseRecord(raw: string | undefined): Documents {
  if (raw === undefined) return Object.create(null) as Documents;
  const parsed = JSON.parse(raw) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('xcap: a stored record is not an object of documents');
  return Object.assign(Object.create(null) as Documents, parsed);
}
