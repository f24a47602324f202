/**
 * An XCAP application usage (RFC 4825 §5): what the server knows of one kind of document — its AUID, MIME type,
 * default namespace, root element, and the constraints its RFC states beyond the schema. `xcap()` mounts a
 * table of them; a script adds its own through `xcap({ usages: [...] })`.
 */
import type { Document, Element } from '@xmldom/xmldom';
import { elementChildren } from '../selector/evaluate.js';
import type { XcapUri } from '../uri.js';

/** The element children of a node: the node selector's, shared with the usages' checks. */
export { elementChildren };

/** What a usage's `validate` is told besides the document. */
export interface ValidationContext {
  /** The document being written. */
  readonly uri: XcapUri;
}

/** What a server-made usage (xcap-caps, xcap-directory) is asked to make a document for. */
export interface GenerateContext {
  readonly uri: XcapUri;
  /** The absolute URI of the XCAP root, e.g. `http://xcap.example.com/xcap-root`, for URIs in the document. */
  readonly rootUrl: string;
}

/** A value that must be unique amongst every document of its usage on the server (RFC 4826 §4.4.5). */
export interface UniqueValue {
  readonly value: string;
  /** The node selector of the attribute holding it, not yet percent-encoded (`rls-services/service[2]/@uri`). */
  readonly field: string;
  /** Its attribute's and element's names, for the 409's phrase. */
  readonly attribute: string;
  readonly element: string;
}

/** A global document the server composes from users' documents of the same usage (RFC 4826 §4.4.8). */
export interface ComposedDocument {
  /** Its name under `global/` (`index`). */
  readonly document: string;
  /** The name of the users' documents it is made from (`index`). */
  readonly from: string;
  /** Its text, from those documents (well-formed and valid), in the order of their XUIs. */
  readonly compose: (documents: readonly Document[]) => string;
}

export interface XcapUsage {
  /** The Application Unique ID, the first path segment under the XCAP root (`resource-lists`). */
  readonly auid: string;
  /** The MIME type of its documents (`application/resource-lists+xml`): a PUT of a document must carry it (415). */
  readonly mimeType: string;
  /** The default document namespace (RFC 4825 §5.2): unprefixed names in node selectors are in it ('' for none). */
  readonly namespace: string;
  /** The local name of the root element, in `namespace`; another root is a 409 schema-validation-error. */
  readonly rootElement: string;
  /** Other namespaces its documents use, listed in the capabilities (xcap-caps). */
  readonly extraNamespaces?: readonly string[];
  /**
   * The checks the usage's schema and RFC ask for beyond the root element, run on every write before anything
   * is stored: throw `xcapConflict('schema-validation-error' | 'uniqueness-failure' | 'constraint-failure', …)`.
   */
  readonly validate?: (doc: Document, context: ValidationContext) => void;
  /**
   * The values of a document that must be unique amongst every document of this usage on the server, whoever
   * holds them (RFC 4826 §4.4.5's service URIs): a write taking one another document holds is a 409
   * uniqueness-failure with an alt-value. Claimed atomically in the storage, so two gateways sharing it cannot
   * both take one.
   */
  readonly uniqueOnServer?: (doc: Document) => readonly UniqueValue[];
  /** Global documents made from the users' documents (read-only, 405 to PUT and DELETE). */
  readonly composed?: readonly ComposedDocument[];
  /**
   * For documents the server makes (read-only, 405 to PUT and DELETE): the document's text for `uri`, or
   * undefined when there is none (404).
   */
  readonly generate?: (context: GenerateContext) => Promise<string | undefined> | string | undefined;
}


/** Is `el` the element `{ns}name`? */
export function isElement(el: Element, ns: string, name: string): boolean {
  return (el.namespaceURI ?? '') === ns && el.localName === name;
}

/**
 * A node selector to `el` from the document's root (RFC 4825 §6.3), each step positioned among same-named
 * siblings (`resource-lists/list[1]/entry[2]`), for the `field` of a uniqueness-failure (§11.6). Names in
 * `defaultNs` are unprefixed; others keep the document's prefix.
 */
export function selectorTo(el: Element, defaultNs: string): string {
  const steps: string[] = [];
  for (let at: Element | null = el; at !== null && at.nodeType === 1; at = at.parentNode as Element | null) {
    const name = at.namespaceURI === defaultNs ? at.localName! : at.nodeName;
    const parent = at.parentNode;
    if (parent === null || parent.nodeType === 9) {
      steps.unshift(name);
      break;
    }
    const same = elementChildren(parent as Element).filter((s) => s.namespaceURI === at!.namespaceURI && s.localName === at!.localName);
    steps.unshift(`${name}[${same.indexOf(at) + 1}]`);
  }
  return steps.join('/');
}

/** A value not among `taken`, made from `value` (`friends-2`, `friends-3`…), to offer as an alt-value. */
export function freeAlternative(value: string, taken: ReadonlySet<string>): string {
  for (let i = 2; i < 2 + taken.size + 1; i++) {
    const candidate = `${value}-${i}`;
    if (!taken.has(candidate)) return candidate;
  }
  return `${value}-${taken.size + 2}`;
}
