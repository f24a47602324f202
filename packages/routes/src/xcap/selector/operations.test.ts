/**
 * getNode / putNode / deleteNode on a resource-lists document: RFC 4825 §8.2–§8.4's checks and their order.
 */
import { describe, expect, it } from 'vitest';
import type { Document } from '@xmldom/xmldom';
import { thrown } from '@wsgate/test-kit';
import { parseXml, serializeXml } from '../xml.js';
import { XcapError } from '../xcap-error.js';
import { deleteNode } from './delete-node.js';
import { getNode } from './get-node.js';
import { parseNamespaceBindings } from './namespace-bindings.js';
import { parseNodeSelector } from './node-selector.js';
import { putNode } from './put-node.js';

const RL = 'urn:ietf:params:xml:ns:resource-lists';
const DOC = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="${RL}" xmlns:cp="urn:ietf:params:xml:ns:copycontrol">
  <list name="friends">
    <entry uri="sip:joe@example.com"><display-name>Joe</display-name></entry>
    <entry uri="sip:nancy@example.com" cp:copyControl="to"/>
  </list>
  <list name="work"/>
  <list name="work2"><list name="inner"/></list>
</resource-lists>`;

const EL = 'application/xcap-el+xml';
const ATT = 'application/xcap-att+xml';
const QUERY = 'xmlns(c=urn:ietf:params:xml:ns:copycontrol)xmlns(x=urn:x)';

function sel(text: string) {
  return parseNodeSelector(text, parseNamespaceBindings(QUERY));
}

/** The ancestor URI as the route module would make it from the selector prefix. */
const ancestorUri = (prefix: string) => (prefix === '' ? 'http://xcap/doc' : `http://xcap/doc/~~/${prefix}`);

const failure = (run: () => unknown) => thrown(run, XcapError);

function fresh(): Document {
  return parseXml(Buffer.from(DOC));
}

function put(doc: Document, selector: string, body: string, type = EL) {
  return putNode(doc, sel(selector), RL, Buffer.from(body, 'utf8'), type, ancestorUri);
}

/** A failed PUT or DELETE leaves the document as it was. */
function refusedPut(selector: string, body: string | Buffer, type = EL): XcapError {
  const doc = fresh();
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const error = failure(() => putNode(doc, sel(selector), RL, bytes, type, ancestorUri));
  expect(serializeXml(doc)).toBe(DOC);
  return error;
}

function refusedDelete(selector: string): XcapError {
  const doc = fresh();
  const error = failure(() => deleteNode(doc, sel(selector), RL));
  expect(serializeXml(doc)).toBe(DOC);
  return error;
}

describe('PUT of an element', () => {
  it('creates an entry (201) that a GET returns as it was put, in the document default namespace', () => {
    const doc = fresh();
    const entry = '<entry uri="sip:bob@example.com"><display-name>Bob</display-name></entry>';
    expect(put(doc, 'resource-lists/list[@name="work"]/entry[@uri="sip:bob@example.com"]', entry)).toEqual({ created: true });
    const node = getNode(doc, sel('resource-lists/list[@name="work"]/entry[@uri="sip:bob@example.com"]'), RL);
    expect(node).toEqual({ contentType: EL, body: entry });
    expect(doc.getElementsByTagNameNS(RL, 'entry').length).toBe(3);
  });

  it('allows white space and an XML declaration around the element', () => {
    const doc = fresh();
    const body = '<?xml version="1.0" encoding="UTF-8"?>\n  <entry uri="sip:ws@example.com"/>\n';
    expect(put(doc, 'resource-lists/list[@name="work"]/entry', body)).toEqual({ created: true });
    expect(getNode(doc, sel('resource-lists/list[@name="work"]/entry'), RL).body).toBe('<entry uri="sip:ws@example.com"/>');
  });

  it('parses the body with the prefixes declared above its parent', () => {
    const doc = fresh();
    put(doc, 'resource-lists/list[@name="work"]/entry[@uri="sip:c@d"]', '<entry uri="sip:c@d" cp:copyControl="cc"/>');
    expect(getNode(doc, sel('resource-lists/list[@name="work"]/entry/@c:copyControl'), RL).body).toBe('"cc"');
  });

  it('replaces an element in place (200), keeping its siblings order', () => {
    const doc = fresh();
    expect(put(doc, 'resource-lists/list[1]/entry[1]', '<entry uri="sip:new@example.com"/>')).toEqual({ created: false });
    const entries = doc.getElementsByTagNameNS(RL, 'entry');
    expect(entries.item(0)?.getAttribute('uri')).toBe('sip:new@example.com');
    expect(entries.item(1)?.getAttribute('uri')).toBe('sip:nancy@example.com');
  });

  it('replaces the root element when the body keeps its name', () => {
    const doc = fresh();
    expect(put(doc, 'resource-lists', `<resource-lists xmlns="${RL}"/>`)).toEqual({ created: false });
    expect(serializeXml(doc)).toBe(`<?xml version="1.0" encoding="UTF-8"?>\n<resource-lists xmlns="${RL}"/>`);
  });

  it('no-parent names the closest ancestor that exists (§8.2.1)', () => {
    const deep = refusedPut('resource-lists/list[@name="none"]/list[@name="x"]/entry', '<entry uri="sip:a@b"/>');
    expect(deep.status).toBe(409);
    expect(deep.conflict?.tag).toBe('no-parent');
    expect(deep.conflict?.ancestor).toBe('http://xcap/doc/~~/resource-lists');
    const close = refusedPut('resource-lists/list[@name="work"]/list[@name="x"]/entry', '<entry uri="sip:a@b"/>');
    expect(close.conflict?.ancestor).toBe('http://xcap/doc/~~/resource-lists/list[@name="work"]');
    const top = refusedPut('other/list', '<list/>');
    expect(top.conflict?.ancestor).toBe('http://xcap/doc');
  });

  it('a parent that matches several elements is no parent', () => {
    const error = refusedPut('resource-lists/list/entry[@uri="sip:z@z"]', '<entry uri="sip:z@z"/>');
    expect(error.conflict?.tag).toBe('no-parent');
    expect(error.conflict?.phrase).toContain('matches 3 elements');
    expect(error.conflict?.ancestor).toBe('http://xcap/doc/~~/resource-lists');
  });

  it('no-parent comes before the content type is looked at', () => {
    expect(refusedPut('resource-lists/nothing/entry', 'x', 'text/plain').conflict?.tag).toBe('no-parent');
  });

  it('a selector whose last step matches several elements is a 404; one whose parent does is no-parent (§8.2.1)', () => {
    expect(refusedPut('resource-lists/list[1]/entry', '<entry/>').status).toBe(404);
    expect(refusedPut('resource-lists/list/entry', '<entry/>').conflict?.tag).toBe('no-parent');
  });

  it('a new root element cannot be inserted beside the existing one', () => {
    expect(refusedPut('other', '<other/>').conflict?.tag).toBe('cannot-insert');
  });

  it.each([
    ['text/xml', 415],
    ['application/xcap-att+xml', 415],
    ['application/resource-lists+xml', 415],
    ['Application/XCAP-EL+XML; charset=utf-8', 201],
  ])('Content-Type %s → %i', (type, status) => {
    const selector = 'resource-lists/list[@name="work"]/entry[@uri="sip:a@b"]';
    if (status === 415) {
      const error = refusedPut(selector, '<entry uri="sip:a@b"/>', type);
      expect(error.status).toBe(415);
      expect(error.message).toContain('application/xcap-el+xml');
    } else {
      expect(put(fresh(), selector, '<entry uri="sip:a@b"/>', type).created).toBe(true);
    }
  });

  it.each([
    ['two elements', '<entry uri="sip:a@b"/><entry/>'],
    ['text only', 'sip:a@b'],
    ['an unclosed element', '<entry uri="sip:a@b">'],
    ['a comment beside the element', '<!-- hi --><entry uri="sip:a@b"/>'],
    ['a DOCTYPE', '<!DOCTYPE entry [<!ENTITY x "y">]><entry uri="&x;"/>'],
    ['an empty body', ''],
    ['a prefix bound nowhere', '<entry uri="sip:a@b"><q:x/></entry>'],
  ])('%s is 409 not-xml-frag', (_name, body) => {
    const error = refusedPut('resource-lists/list[@name="work"]/entry[@uri="sip:a@b"]', body);
    expect(error.status).toBe(409);
    expect(error.conflict?.tag).toBe('not-xml-frag');
  });

  it('a body that is not UTF-8 is 409 not-utf-8', () => {
    const latin1 = Buffer.from([...Buffer.from('<entry uri="sip:'), 0xe9, ...Buffer.from('@b"/>')]);
    expect(refusedPut('resource-lists/list[@name="work"]/entry', latin1).conflict?.tag).toBe('not-utf-8');
  });

  it('an element in another namespace than the selector names is cannot-insert', () => {
    const error = refusedPut('resource-lists/list[@name="work"]/entry', '<entry xmlns="urn:other"/>');
    expect(error.conflict?.tag).toBe('cannot-insert');
  });
});

describe('PUT of an attribute', () => {
  const list = 'resource-lists/list[@name="friends"]';

  it('creates (201) and replaces (200) an attribute; the body is an AttValue (RFC 4825 §7.7), GET answers one (§7.9)', () => {
    const doc = fresh();
    expect(put(doc, `${list}/@label`, "'Tom &amp; \"Jerry\"'", ATT)).toEqual({ created: true });
    expect(doc.getElementsByTagNameNS(RL, 'list').item(0)?.getAttribute('label')).toBe('Tom & "Jerry"');
    expect(getNode(doc, sel(`${list}/@label`), RL)).toEqual({ contentType: ATT, body: '"Tom &amp; &quot;Jerry&quot;"' });
    expect(put(doc, `${list}/@label`, `"it's"`, ATT)).toEqual({ created: false });
    expect(getNode(doc, sel(`${list}/@label`), RL).body).toBe(`"it's"`);
  });

  it('takes a body without quotes as the bare value, as OpenXCAP clients send it', () => {
    const doc = fresh();
    expect(put(doc, `${list}/@label`, "Tom &amp; it's", ATT)).toEqual({ created: true });
    expect(getNode(doc, sel(`${list}/@label`), RL).body).toBe(`"Tom &amp; it's"`);
  });

  it('writes a namespaced attribute under the prefix the document already uses, or declares the query one', () => {
    const doc = fresh();
    put(doc, 'resource-lists/list[1]/entry[1]/@c:copyControl', 'bcc', ATT);
    put(doc, 'resource-lists/list[1]/entry[1]/@x:flag', 'on', ATT);
    put(doc, 'resource-lists/list[1]/entry[1]/@xml:lang', 'fr', ATT);
    const entry = getNode(doc, sel('resource-lists/list[1]/entry[1]'), RL).body;
    expect(entry).toBe('<entry uri="sip:joe@example.com" cp:copyControl="bcc" xmlns:x="urn:x" x:flag="on" xml:lang="fr"><display-name>Joe</display-name></entry>');
    expect(parseXml(Buffer.from(serializeXml(doc))).documentElement?.localName).toBe('resource-lists');
  });

  it('a new value that makes the element selector miss is cannot-insert (§8.2.4)', () => {
    const error = refusedPut(`${list}/@name`, 'coworkers', ATT);
    expect(error.conflict?.tag).toBe('cannot-insert');
  });

  it('the same value is a 200', () => {
    expect(put(fresh(), `${list}/@name`, 'friends', ATT)).toEqual({ created: false });
  });

  it.each([
    ['a <', 'a<b'],
    ['a bare &', 'fish & chips'],
    ['an unknown entity', '&nbsp;'],
    ['both quotes, unquoted', `it's "x"`],
    ['its own quote inside an AttValue', `"say "hi""`],
    ['a control character', 'a\u0001'],
  ])('%s is 409 not-xml-att-value', (_name, body) => {
    const error = refusedPut(`${list}/@label`, body, ATT);
    expect(error.status).toBe(409);
    expect(error.conflict?.tag).toBe('not-xml-att-value');
  });

  it('the element PUT type is a 415 for an attribute', () => {
    expect(refusedPut(`${list}/@label`, 'x', EL).status).toBe(415);
  });

  it('an attribute of an element that does not exist is no-parent', () => {
    const error = refusedPut('resource-lists/list[@name="none"]/@label', 'x', ATT);
    expect(error.conflict?.tag).toBe('no-parent');
    expect(error.conflict?.ancestor).toBe('http://xcap/doc/~~/resource-lists');
  });

  it('xmlns is not an attribute', () => {
    expect(refusedPut(`${list}/@xmlns`, 'urn:x', ATT).conflict?.tag).toBe('cannot-insert');
  });
});

describe('namespace bindings are read-only', () => {
  it('PUT and DELETE of namespace::* are 405 with Allow: GET', () => {
    const put405 = refusedPut('resource-lists/namespace::*', '<x/>');
    expect(put405.status).toBe(405);
    expect(put405.headers).toEqual({ Allow: 'GET' });
    const delete405 = refusedDelete('resource-lists/namespace::*');
    expect(delete405.status).toBe(405);
    expect(delete405.headers).toEqual({ Allow: 'GET' });
  });

  it('GET lists the bindings in force at the element', () => {
    expect(getNode(fresh(), sel('resource-lists/list[1]/namespace::*'), RL)).toEqual({
      contentType: 'application/xcap-ns+xml',
      body: `<list xmlns="${RL}" xmlns:cp="urn:ietf:params:xml:ns:copycontrol"/>`,
    });
  });
});

describe('DELETE', () => {
  it('removes an element and an attribute; a second DELETE is a 404', () => {
    const doc = fresh();
    deleteNode(doc, sel('resource-lists/list[@name="work"]'), RL);
    expect(failure(() => deleteNode(doc, sel('resource-lists/list[@name="work"]'), RL)).status).toBe(404);
    deleteNode(doc, sel('resource-lists/list[1]/entry[2]/@c:copyControl'), RL);
    expect(failure(() => getNode(doc, sel('resource-lists/list[1]/entry[2]/@c:copyControl'), RL)).status).toBe(404);
    expect(failure(() => deleteNode(doc, sel('resource-lists/list[1]/entry[2]/@c:copyControl'), RL)).status).toBe(404);
  });

  it('a positional selector that would then select the next sibling is 409 cannot-delete', () => {
    const error = refusedDelete('resource-lists/list[1]/entry[1]');
    expect(error.conflict?.tag).toBe('cannot-delete');
    // The last one can go: nothing takes its place.
    const doc = fresh();
    deleteNode(doc, sel('resource-lists/list[1]/entry[2]'), RL);
    expect(doc.getElementsByTagNameNS(RL, 'entry').length).toBe(1);
  });

  it('the root element is 409 cannot-delete', () => {
    expect(refusedDelete('resource-lists').conflict?.tag).toBe('cannot-delete');
  });

  it('nothing, or several elements, selected is a 404', () => {
    expect(refusedDelete('resource-lists/list[@name="none"]').status).toBe(404);
    expect(refusedDelete('resource-lists/list').status).toBe(404);
    expect(refusedDelete('resource-lists/list[1]/@nothing').status).toBe(404);
  });
});
