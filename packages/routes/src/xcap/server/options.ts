/** `xcap()`'s options, checked once at start (docs/design.md convention 8). */
import { isAbsolute } from 'node:path';
import { MemoryStore, type Gateway, type Store } from '@wsgate/core';
import type { Guard } from '../../kit/guard.js';
import { integer, invalidOption, knownKeys } from '../../kit/option-checks.js';
import { STORED_USAGES } from '../usages/table.js';
import type { XcapUsage } from '../usages/usage.js';

export interface XcapOptions {
  /** The XCAP root's path (RFC 4825 §6.1), no trailing slash; `''` for the host's root. Default `/xcap-root`. */
  readonly root?: string;
  /** Lends its store (`gateway.store`, Redis when configured) for documents, unless `store` is given. */
  readonly gateway?: Pick<Gateway, 'store'>;
  /**
   * Where documents live; default `gateway.store`, else a MemoryStore of this module's own (whose documents a
   * reload of the script, which makes a new one, leaves behind: give `gateway` or `store`).
   */
  readonly store?: Store;
  /**
   * Keep documents as files under this directory instead (`<directory>/<auid>/users/<xui>/<document>`), written
   * atomically (a temporary file renamed) under a lock file. Not with `store`.
   */
  readonly directory?: string;
  /**
   * Authenticates a request that arrives without a user (no route before set `attribute`): `digestAuth()`,
   * `basicAuth()`, `cookieToken()`… It answers 401 itself. Without it such a request gets 403.
   */
  readonly auth?: Guard;
  /** The request attribute holding the authenticated user (what the auth modules set). Default `user`. */
  readonly attribute?: string;
  /**
   * The XUIs a user owns: their documents are under `users/<xui>/`. Default: the user name itself. For SIP
   * identities: `(user) => [user, \`sip:${user}@example.com\`]`.
   */
  readonly xuis?: (user: string) => readonly string[];
  /** Users who may write global documents and read and write every user's. */
  readonly admins?: readonly string[];
  /** Usages added to the table (resource-lists, rls-services, pres-rules, the OMA pres-rules, pidf-manipulation). */
  readonly usages?: readonly XcapUsage[];
  /** The largest request body and stored document, in bytes: past it, 413. Default 1048576 (1 MiB). */
  readonly maxDocumentSize?: number;
  /** The most bytes one user's documents may hold together: past it, 507. Default 8388608 (8 MiB). */
  readonly maxUserStorage?: number;
}

export interface XcapSettings {
  readonly root: string;
  readonly store: Store;
  readonly directory: string | undefined;
  readonly auth: Guard | undefined;
  readonly attribute: string;
  readonly xuis: (user: string) => readonly string[];
  readonly admins: ReadonlySet<string>;
  readonly usages: readonly XcapUsage[];
  readonly maxDocumentSize: number;
  readonly maxUserStorage: number;
}

const KEYS = ['root', 'gateway', 'store', 'directory', 'auth', 'attribute', 'xuis', 'admins', 'usages', 'maxDocumentSize', 'maxUserStorage'];
const AUID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const RESERVED = new Set(['xcap-caps', 'org.openmobilealliance.xcap-directory']);

export function xcapSettings(options: XcapOptions): XcapSettings {
  const o = knownKeys('xcap()', options, KEYS) as XcapOptions;
  const root = o.root ?? '/xcap-root';
  if (typeof root !== 'string' || !/^(\/[A-Za-z0-9._~-]+)*$/.test(root)) {
    throw invalidOption('xcap().root', `expected a path such as /xcap-root (no trailing slash; '' for the host's root), got ${JSON.stringify(root)}`);
  }
  if (o.store !== undefined && typeof (o.store as Store).compareAndSet !== 'function') {
    throw invalidOption('xcap().store', 'expected a Store (gateway.store, a MemoryStore or a RedisStore)');
  }
  if (o.directory !== undefined && (typeof o.directory !== 'string' || !isAbsolute(o.directory))) {
    throw invalidOption('xcap().directory', `expected an absolute path of a directory, got ${JSON.stringify(o.directory)}`);
  }
  if (o.directory !== undefined && o.store !== undefined) throw invalidOption('xcap()', 'give either store or directory, not both');
  if (o.auth !== undefined && typeof (o.auth as Guard).check !== 'function') {
    throw invalidOption('xcap().auth', 'expected a guard such as digestAuth({...}) or basicAuth({...})');
  }
  const attribute = o.attribute ?? 'user';
  if (typeof attribute !== 'string' || attribute === '') throw invalidOption('xcap().attribute', `expected an attribute name such as "user", got ${JSON.stringify(attribute)}`);
  if (o.xuis !== undefined && typeof o.xuis !== 'function') {
    throw invalidOption('xcap().xuis', 'expected a function from a user name to the XUIs they own, e.g. (user) => [user, `sip:${user}@example.com`]');
  }
  const admins = o.admins ?? [];
  if (!Array.isArray(admins) || !admins.every((a) => typeof a === 'string' && a !== '')) {
    throw invalidOption('xcap().admins', `expected a list of user names, got ${JSON.stringify(admins)}`);
  }
  return Object.freeze({
    root,
    store: o.store ?? o.gateway?.store ?? new MemoryStore(),
    directory: o.directory,
    auth: o.auth,
    attribute,
    xuis: o.xuis ?? ((user: string) => [user]),
    admins: new Set(admins),
    usages: Object.freeze([...STORED_USAGES.filter((u) => !(o.usages ?? []).some((mine) => mine.auid === u.auid)), ...checkUsages(o.usages ?? [])]),
    maxDocumentSize: integer('xcap().maxDocumentSize', o.maxDocumentSize, 1_048_576, 1, 64 * 1_048_576),
    maxUserStorage: integer('xcap().maxUserStorage', o.maxUserStorage, 8 * 1_048_576, 1, 1024 * 1_048_576),
  });
}

/** A script's own usages: each needs an AUID, a MIME type, a namespace and a root element; AUIDs once each. */
function checkUsages(usages: readonly XcapUsage[]): XcapUsage[] {
  if (!Array.isArray(usages)) throw invalidOption('xcap().usages', 'expected a list of application usages');
  const seen = new Set<string>();
  return usages.map((u, i) => {
    const where = `xcap().usages[${i}]`;
    if (typeof u !== 'object' || u === null) throw invalidOption(where, 'expected an object { auid, mimeType, namespace, rootElement, validate? }');
    if (typeof u.auid !== 'string' || !AUID.test(u.auid)) throw invalidOption(`${where}.auid`, `expected an AUID of letters, digits, '.', '_' and '-', got ${JSON.stringify(u.auid)}`);
    if (RESERVED.has(u.auid)) throw invalidOption(`${where}.auid`, `${u.auid} is the server's own usage and cannot be replaced`);
    if (seen.has(u.auid)) throw invalidOption(`${where}.auid`, `${u.auid} is listed twice`);
    seen.add(u.auid);
    if (typeof u.mimeType !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(u.mimeType)) throw invalidOption(`${where}.mimeType`, `expected a MIME type such as application/example+xml, got ${JSON.stringify(u.mimeType)}`);
    if (typeof u.namespace !== 'string') throw invalidOption(`${where}.namespace`, 'expected the default document namespace, e.g. urn:example:params:xml:ns:example (\'\' for none)');
    if (typeof u.rootElement !== 'string' || u.rootElement === '') throw invalidOption(`${where}.rootElement`, 'expected the local name of the root element');
    if (u.validate !== undefined && typeof u.validate !== 'function') throw invalidOption(`${where}.validate`, 'expected a function (doc, context) => void that throws xcapConflict(...)');
    if (u.uniqueOnServer !== undefined && typeof u.uniqueOnServer !== 'function') {
      throw invalidOption(`${where}.uniqueOnServer`, 'expected a function (doc) => [{ value, field, attribute, element }] of the values unique on the server');
    }
    if (u.composed !== undefined && (!Array.isArray(u.composed) || !(u.composed as readonly unknown[]).every((c: any) => typeof c?.document === 'string' && c.document !== '' && typeof c.from === 'string' && c.from !== '' && typeof c.compose === 'function'))) {
      throw invalidOption(`${where}.composed`, 'expected a list of { document, from, compose(documents) } (a global document made from the users\' documents named from)');
    }
    if (u.generate !== undefined) throw invalidOption(`${where}.generate`, 'server-made documents are the server\'s own usages only; leave it out');
    return Object.freeze({ ...u });
  });
}
