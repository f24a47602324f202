/**
 * `xcap()`: an XCAP server (RFC 4825) as a route set, for the clients that keep contact lists and presence rules
 * on the SIP service's own port (Blink, Jitsi, OMA XDM clients). Mount it after the WebSocket routes: it takes
 * the requests under its root and passes every other one on (`req.next()`).
 */
import { STATUS_CODES } from 'node:http';
import type { Document } from '@xmldom/xmldom';
import { defineRoutes, type RequestContext, type Routes } from '@wsgate/core';
import { authorize, REFUSED } from './server/access.js';
import { checkConditions } from './server/conditions.js';
import { PENDING_MS, UniqueClaims, type Claims } from './server/unique-claims.js';
import { deleteNode, getNode, parseNamespaceBindings, parseNodeSelector, putNode, type NodeSelector } from './selector/index.js';
import { xcapSettings, type XcapOptions, type XcapSettings } from './server/options.js';
import { etagOf, type DocumentRef, type DocumentStorage, type StoredDocument } from './storage/document-storage.js';
import { DirectoryDocuments } from './storage/directory-documents.js';
import { StoreDocuments } from './storage/store-documents.js';
import { encodeSelector, parseXcapUri, type XcapUri } from './uri.js';
import { checkRoot } from './usages/checks.js';
import { capsUsage, directoryUsage } from './usages/server-documents.js';
import type { ComposedDocument, XcapUsage } from './usages/usage.js';
import { conflictDocument, XcapError, xcapConflict } from './xcap-error.js';
import { parseXml, serializeXml } from './xml.js';

export type { XcapOptions } from './server/options.js';

/** How often a write that lost a race is tried again on a fresh read before the client gets 503. */
const MAX_ATTEMPTS = 16;

const ALLOW_STORED = 'GET, HEAD, PUT, DELETE';
const ALLOW_MADE = 'GET, HEAD';

/**
 * The XCAP server's route set: documents under `<root>/<auid>/users/<xui>/…` and `<root>/<auid>/global/…`, whole or
 * one element, attribute or namespace binding at a time (node selectors, RFC 4825 §6.3), with ETags and
 * conditional requests, 409 conflict reports, and per-user authorization.
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` naming the option for a bad option
 * @example
 * const auth = digestAuth({ realm: 'example.com', file: './htdigest' });
 * gateway.use(xcap({ gateway, auth, xuis: (user) => [`sip:${user}@example.com`] }));
 */
export function xcap(options: XcapOptions = {}): Routes {
  const s = xcapSettings(options);
  const composedFrom = (auid: string, document: string) => byAuid.get(auid)?.composed?.some((c) => c.from === document) ?? false;
  const storage: DocumentStorage = s.directory === undefined ? new StoreDocuments(s.store, composedFrom) : new DirectoryDocuments(s.directory);
  const usages: XcapUsage[] = [];
  usages.push(capsUsage(() => usages), directoryUsage(storage, () => s.usages), ...s.usages);
  const byAuid = new Map(usages.map((u) => [u.auid, u]));
  const claims = new UniqueClaims(storage.records, async (ref, value) => {
    const held = (await storage.read(ref)).document;
    const unique = byAuid.get(ref.auid)?.uniqueOnServer;
    return held !== undefined && unique !== undefined && unique(parseXml(Buffer.from(held.body))).some((v) => v.value === value);
  });
  const server: Server = { s, storage, byAuid, claims };
  const prefix = `${s.root}/`;

  return defineRoutes(
    {
      'http:request'(req) {
        if (!req.path.startsWith(prefix)) return req.next();
        return serve(req, server).catch((err: unknown) => answerError(req, err));
      },
    },
    'xcap',
  );
}

/** What the requests of one xcap() share. */
interface Server {
  readonly s: XcapSettings;
  readonly storage: DocumentStorage;
  readonly byAuid: ReadonlyMap<string, XcapUsage>;
  readonly claims: UniqueClaims;
}

async function serve(req: RequestContext<any>, server: Server) {
  const { s, storage, byAuid } = server;
  const uri = parseXcapUri(req.path, s.root)!;
  const usage = byAuid.get(uri.auid);
  if (usage === undefined) throw new XcapError(404, `no application usage "${uri.auid}" on this server`);
  const method = req.method;
  const read = method === 'GET' || method === 'HEAD';
  const composed = uri.scope === 'global' ? usage.composed?.find((c) => c.document === uri.document) : undefined;
  const allow = usage.generate || composed ? ALLOW_MADE : ALLOW_STORED;
  if (!allow.split(', ').includes(method)) throw new XcapError(405, `${method} is not allowed here`, undefined, { Allow: allow });
  const who = await authorize(req, uri, !read, s);
  if (who === REFUSED) return undefined;
  // Syntax first: a bad selector is 400 whatever the document holds.
  const selector = uri.selector === undefined ? undefined : parseNodeSelector(uri.selector, parseNamespaceBindings(req.search));
  const conditions = { ifMatch: req.header('if-match'), ifNoneMatch: req.header('if-none-match') };
  const ref: DocumentRef = { auid: uri.auid, scope: uri.scope, xui: uri.xui, document: uri.document };

  if (read) {
    const current = composed
      ? await compose(storage, usage, composed)
      : usage.generate
        ? made(await usage.generate({ uri, rootUrl: rootUrlOf(req, s) }))
        : (await storage.read(ref)).document;
    if (current === undefined) throw new XcapError(404, 'no such document');
    checkConditions(conditions, current.etag, true);
    // RFC 4825 §9: clients write these documents, so caches must check back ("SHOULD indicate a no-cache directive").
    const headers = { ETag: current.etag, 'Cache-Control': 'no-cache' };
    if (selector === undefined) return req.reply(200, 'OK', usage.mimeType, current.body, headers);
    const node = getNode(parseXml(Buffer.from(current.body)), selector, usage.namespace);
    return req.reply(200, 'OK', node.contentType, node.body, headers);
  }

  const change = method === 'PUT' ? await putChange(req, s, usage, uri, selector) : deleteChange(usage, uri, selector);
  const { status, etag } = await commit(server, usage, ref, conditions, change);
  return req.reply(status, STATUS_CODES[status]!, '', '', etag === undefined ? {} : { ETag: etag });
}

/**
 * What a write does to the current document: its new text (undefined: deleted), the status to answer, and the new
 * document as parsed (so that its unique values are read without parsing the text again).
 */
type Change = (current: StoredDocument | undefined) => { readonly body: string | undefined; readonly status: number; readonly doc?: Document };

async function putChange(req: RequestContext<any>, s: XcapSettings, usage: XcapUsage, uri: XcapUri, selector: NodeSelector | undefined): Promise<Change> {
  const body = await req.body({ limit: s.maxDocumentSize });
  const contentType = mediaType(req.header('content-type'));
  if (selector === undefined) {
    if (contentType !== usage.mimeType) throw new XcapError(415, `a ${usage.auid} document is ${usage.mimeType}, got ${contentType || 'no Content-Type'}`);
    const doc = parseXml(body);
    validate(usage, doc, uri);
    const text = new TextDecoder('utf-8').decode(body);
    return (current) => ({ body: text, status: current === undefined ? 201 : 200, doc });
  }
  const ancestorUri = (selectorPrefix: string): string =>
    `${absolute(req, uri.documentPath)}${selectorPrefix === '' ? '' : `/~~/${encodeSelector(selectorPrefix)}`}`;
  return (current) => {
    if (current === undefined) throw xcapConflict('no-parent', 'the document does not exist: PUT the whole document first');
    const doc = parseXml(Buffer.from(current.body));
    const { created } = putNode(doc, selector, usage.namespace, body, contentType, ancestorUri);
    validate(usage, doc, uri);
    return { body: sized(serializeXml(doc), s), status: created ? 201 : 200, doc };
  };
}

function deleteChange(usage: XcapUsage, uri: XcapUri, selector: NodeSelector | undefined): Change {
  return (current) => {
    if (current === undefined) throw new XcapError(404, 'no such document');
    if (selector === undefined) return { body: undefined, status: 200 };
    const doc = parseXml(Buffer.from(current.body));
    deleteNode(doc, selector, usage.namespace);
    validate(usage, doc, uri);
    return { body: serializeXml(doc), status: 200, doc };
  };
}

/**
 * Reads, checks the conditions, applies the change and writes it only if nobody wrote in between; a write that
 * lost the race starts again from a fresh read (so its If-Match is judged against the winner's ETag).
 */
async function commit(
  { s, storage, claims }: Server,
  usage: XcapUsage,
  ref: DocumentRef,
  conditions: { ifMatch: string | undefined; ifNoneMatch: string | undefined },
  change: Change,
): Promise<{ status: number; etag: string | undefined }> {
  const unique = usage.uniqueOnServer;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const snapshot = await storage.read(ref);
    checkConditions(conditions, snapshot.document?.etag, false);
    const { body, status, doc } = change(snapshot.document);
    if (body !== undefined && ref.scope === 'users' && (await snapshot.otherBytes()) + Buffer.byteLength(body) > s.maxUserStorage) {
      throw new XcapError(507, `the user's documents would hold more than ${s.maxUserStorage} bytes`);
    }
    // RFC 4826 §4.4.5: the values unique on the whole server are claimed before the document is written.
    const values = unique === undefined || doc === undefined ? [] : unique(doc);
    const held: Claims | undefined = values.length === 0 ? undefined : await claims.claim(ref, values);
    let written: boolean;
    try {
      // A claim stays "pending" for PENDING_MS: a write that took longer must not rely on it.
      if (held !== undefined && Date.now() - held.since > PENDING_MS / 2) throw new XcapError(503, 'the write took too long to keep its claims; try again', undefined, { 'Retry-After': '1' });
      written = await storage.write(ref, snapshot, body);
    } catch (err) {
      await held?.abandon();
      throw err;
    }
    if (written) {
      await held?.confirm();
      if (unique !== undefined && snapshot.document !== undefined) {
        const kept = new Set(values.map((v) => v.value));
        const gone = unique(parseXml(Buffer.from(snapshot.document.body))).map((v) => v.value).filter((v) => !kept.has(v));
        // The write is done: a record left behind here is stale, and the next claim of its value takes it over.
        await claims.release(ref, gone).catch(() => undefined);
      }
      return { status, etag: body === undefined ? undefined : etagOf(body) };
    }
    await held?.abandon();
    // Lost the race: wait a random, growing while (under 64 ms) so that many writers of one document spread out
    // instead of colliding again in lockstep.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(64, 2 ** attempt)));
  }
  throw new XcapError(503, `the document kept changing under ${MAX_ATTEMPTS} attempts to write it; try again`, undefined, { 'Retry-After': '1' });
}

/** The root element every usage checks (a script's usage may have no validate of its own), then the usage's checks. */
function validate(usage: XcapUsage, doc: Document, uri: XcapUri): void {
  checkRoot(doc, usage);
  usage.validate?.(doc, { uri });
}

function sized(text: string, s: XcapSettings): string {
  if (Buffer.byteLength(text) > s.maxDocumentSize) throw new XcapError(413, `the document would be larger than ${s.maxDocumentSize} bytes`);
  return text;
}

/**
 * A global document made from the users' documents of its usage (RFC 4826 §4.4.8), read now ("responses that
 * reflect the most recent state of all the relevant user documents"). Its ETag digests its text and the ETags of
 * the documents it came from, so it changes whenever any of them does.
 */
async function compose(storage: DocumentStorage, usage: XcapUsage, composed: ComposedDocument): Promise<StoredDocument> {
  const xuis = (await storage.holders(usage.auid, composed.from)).sort();
  const parts: { xui: string; etag: string; doc: Document }[] = [];
  for (const xui of xuis) {
    const held = (await storage.read({ auid: usage.auid, scope: 'users', xui, document: composed.from })).document;
    if (held !== undefined) parts.push({ xui, etag: held.etag, doc: parseXml(Buffer.from(held.body)) });
  }
  const body = composed.compose(parts.map((p) => p.doc));
  return { body, etag: etagOf(JSON.stringify([body, ...parts.map((p) => [p.xui, p.etag])])) };
}

function made(body: string | undefined): StoredDocument | undefined {
  return body === undefined ? undefined : { body, etag: etagOf(body) };
}

/** The media type of a Content-Type, lower-case, parameters dropped. */
function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

function rootUrlOf(req: RequestContext<any>, s: XcapSettings): string {
  return absolute(req, s.root);
}

function absolute(req: RequestContext<any>, path: string): string {
  const host = req.host ?? `${req.localAddress}:${req.localPort}`;
  return `${req.secure ? 'https' : 'http'}://${host}${path}`;
}

/** An XcapError becomes its answer (409 with the conflict document); anything else goes on to the pipeline. */
function answerError(req: RequestContext<any>, err: unknown) {
  if (!(err instanceof XcapError)) throw err;
  if (err.status === 304) return req.reply(304, 'Not Modified', '', '', err.headers);
  if (err.conflict) return req.reply(409, 'Conflict', 'application/xcap-error+xml', conflictDocument(err.conflict), err.headers);
  // Logged and counted as refusals, by the client's real address.
  if (err.status === 403) return req.refuse(403, 'xcap', err.message, err.headers);
  return req.reply(err.status, STATUS_CODES[err.status] ?? 'Error', 'text/plain; charset=utf-8', `${err.message}\n`, err.headers);
}
