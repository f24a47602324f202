/**
 * The two usages whose documents the server makes, read-only: the capabilities (RFC 4825 §12, `xcap-caps`,
 * `global/index`), made from the usages mounted, and a user's directory of documents with their ETags (OMA XDM
 * Core's `org.openmobilealliance.xcap-directory`, `users/<xui>/directory.xml`).
 */
import type { DocumentStorage } from '../storage/document-storage.js';
import { encodeSelector } from '../uri.js';
import { escapeXml } from '../xcap-error.js';
import type { XcapUsage } from './usage.js';

export const XCAP_CAPS_NS = 'urn:ietf:params:xml:ns:xcap-caps';
export const XCAP_ERROR_NS = 'urn:ietf:params:xml:ns:xcap-error';
export const XCAP_DIRECTORY_NS = 'urn:oma:xml:xdm:xcap-directory';

/** The capabilities document (RFC 4825 §12.2) listing `usages` (itself included) and their namespaces. */
export function capsUsage(usages: () => readonly XcapUsage[]): XcapUsage {
  return {
    auid: 'xcap-caps',
    mimeType: 'application/xcap-caps+xml',
    namespace: XCAP_CAPS_NS,
    rootElement: 'xcap-caps',
    generate({ uri }) {
      if (uri.scope !== 'global' || uri.document !== 'index') return undefined;
      const all = usages();
      const namespaces = new Set([XCAP_CAPS_NS, XCAP_ERROR_NS]);
      for (const u of all) for (const ns of [u.namespace, ...(u.extraNamespaces ?? [])]) namespaces.add(ns);
      const auids = all.map((u) => `    <auid>${escapeXml(u.auid)}</auid>\n`).join('');
      const nss = [...namespaces].map((ns) => `    <namespace>${escapeXml(ns)}</namespace>\n`).join('');
      return `<?xml version="1.0" encoding="UTF-8"?>\n<xcap-caps xmlns="${XCAP_CAPS_NS}">\n  <auids>\n${auids}  </auids>\n  <namespaces>\n${nss}  </namespaces>\n</xcap-caps>\n`;
    },
  };
}

/** A user's documents, one `<folder>` per stored usage, each `<entry>` with its URI and ETag (OMA XDM Core). */
export function directoryUsage(storage: DocumentStorage, stored: () => readonly XcapUsage[]): XcapUsage {
  return {
    auid: 'org.openmobilealliance.xcap-directory',
    mimeType: 'application/vnd.oma.xcap-directory+xml',
    namespace: XCAP_DIRECTORY_NS,
    rootElement: 'xcap-directory',
    async generate({ uri, rootUrl }) {
      if (uri.scope !== 'users' || uri.document !== 'directory.xml') return undefined;
      const docs = await storage.list(uri.xui!);
      const folders = stored().map((u) => {
        const entries = docs
          .filter((d) => d.auid === u.auid)
          .sort((a, b) => (a.document < b.document ? -1 : a.document > b.document ? 1 : 0))
          .map((d) => {
            const href = `${rootUrl}/${encodeURIComponent(d.auid)}/users/${encodeSelector(uri.xui!)}/${d.document.split('/').map(encodeURIComponent).join('/')}`;
            return `    <entry uri="${escapeXml(href)}" etag="${escapeXml(d.etag.slice(1, -1))}" size="${d.size}"/>\n`;
          })
          .join('');
        return entries === '' ? `  <folder auid="${escapeXml(u.auid)}"/>\n` : `  <folder auid="${escapeXml(u.auid)}">\n${entries}  </folder>\n`;
      });
      return `<?xml version="1.0" encoding="UTF-8"?>\n<xcap-directory xmlns="${XCAP_DIRECTORY_NS}">\n${folders.join('')}</xcap-directory>\n`;
    },
  };
}
