/**
 * XCAP documents in the core `Store` (the gateway's memory store, or Redis shared by several gateways). One
 * record per user (`wsgate:xcap:users:<xui>`) holds all of that user's documents, and one per usage its global
 * documents (`wsgate:xcap:global:<auid>`): a write is one `compareAndSet` of the record, so it is atomic, a
 * user's directory (xcap-directory) is always consistent with the documents, and two writers racing on one
 * record cannot both win — the loser reads again.
 */
import type { Store } from '@wsgate/core';
import { etagOf, type DocumentRef, type DocumentStorage, type ListedDocument, type Snapshot } from './document-storage.js';

/** A record: documents by `<auid>/<document>` (users) or `<document>` (global). */
type Documents = Record<string, string>;

interface Version {
  readonly raw: string | undefined;
  readonly docs: Documents;
}

export class StoreDocuments implements DocumentStorage {
  constructor(
    private readonly store: Store,
    private readonly prefix = 'wsgate:xcap:',
  ) {}

  async read(ref: DocumentRef): Promise<Snapshot> {
    const raw = await this.store.get(this.keyOf(ref));
    const docs = parseRecord(raw);
    const name = nameIn(ref);
    const body = Object.hasOwn(docs, name) ? docs[name] : undefined;
    let otherBytes = 0;
    for (const [n, b] of Object.entries(docs)) if (n !== name) otherBytes += Buffer.byteLength(b);
    const version: Version = { raw, docs };
    return { document: body === undefined ? undefined : { body, etag: etagOf(body) }, otherBytes, version };
  }

  async write(ref: DocumentRef, snapshot: Snapshot, body: string | undefined): Promise<boolean> {
    const { raw, docs } = snapshot.version as Version;
    const next: Documents = { ...docs };
    if (body === undefined) delete next[nameIn(ref)];
    else next[nameIn(ref)] = body;
    const value = Object.keys(next).length === 0 ? undefined : JSON.stringify(next);
    return this.store.compareAndSet(this.keyOf(ref), raw, value);
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
