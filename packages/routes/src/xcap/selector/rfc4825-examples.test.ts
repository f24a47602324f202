/**
 * RFC 4825's own examples, documents and node selectors copied from the RFC text (figures de-indented by the
 * RFC's three-space page margin): §6.3's Figure 3 watcherinfo document, §6.4's namespace document, §7.4's
 * positional insertion, §8.2.3's creation cases with the documents the RFC says they give, §10's namespace
 * bindings answer, and the rules those sections state in words (quoted above each test).
 */
import { describe, expect, it } from 'vitest';
import { RFC4825_INSERT_EXAMPLE, RFC4825_NAMESPACES, thrown } from '@wsgate/test-kit';
import { parseXml, serializeXml } from '../xml.js';
import { XcapError } from '../xcap-error.js';
import { deleteNode } from './delete-node.js';
import { getNode } from './get-node.js';
import { parseNamespaceBindings } from './namespace-bindings.js';
import { parseNodeSelector } from './node-selector.js';
import { putNode } from './put-node.js';

const WATCHERINFO_NS = 'urn:ietf:params:xml:ns:watcherinfo';
/** RFC 4825 §6.3, Figure 3: Example XML Document. */
const FIGURE_3 = `<?xml version="1.0"?>
<watcherinfo xmlns="urn:ietf:params:xml:ns:watcherinfo"
             version="0" state="full">
  <watcher-list resource="sip:professor@example.net"
                package="presence">
    <watcher status="active"
             id="8ajksjda7s"
             duration-subscribed="509"
             event="approved">sip:userA@example.net</watcher>
    <watcher status="pending"
             id="hh8juja87s997-ass7"
             display-name="Mr. Subscriber"
             event="subscribe">sip:userB@example.org</watcher>
  </watcher-list>
</watcherinfo>`;

/** §6.4: "This application usage defines a default document namespace of "urn:test:default-namespace"." */
const NS_DEFAULT = 'urn:test:default-namespace';

const EL = 'application/xcap-el+xml';
const ATT = 'application/xcap-att+xml';
const noAncestor = () => {
  throw new Error('no no-parent expected');
};

function get(doc: string, selector: string, defaultNs: string, query = '') {
  return getNode(parseXml(Buffer.from(doc)), parseNodeSelector(selector, parseNamespaceBindings(query)), defaultNs);
}

const failure = (run: () => unknown) => thrown(run, XcapError);

/** XML does not keep the white space between attributes (§8.3: "XML normalization and equivalency rules"). */
const oneLine = (text: string) => text.replace(/\s+/g, ' ');

describe('RFC 4825 §6.3: Figure 3', () => {
  it('watcherinfo/watcher-list/watcher[@id="8ajksjda7s"] "would select the following XML element"', () => {
    const node = get(FIGURE_3, 'watcherinfo/watcher-list/watcher[@id="8ajksjda7s"]', WATCHERINFO_NS);
    expect(node.contentType).toBe(EL);
    // As the RFC prints it, its line breaks between attributes aside.
    expect(node.body).toBe(
      oneLine(`<watcher status="active"
       id="8ajksjda7s"
       duration-subscribed="509"
       event="approved">sip:userA@example.net</watcher>`),
    );
  });

  it('"by name and position, or by name, position and attribute. In all cases, the name can be wildcarded"', () => {
    const second = 'sip:userB@example.org</watcher>';
    expect(get(FIGURE_3, 'watcherinfo/watcher-list/watcher[2]', WATCHERINFO_NS).body).toContain(second);
    expect(get(FIGURE_3, 'watcherinfo/*/*[2]', WATCHERINFO_NS).body).toContain(second);
    expect(get(FIGURE_3, "watcherinfo/watcher-list/watcher[2][@status='pending']", WATCHERINFO_NS).body).toContain(second);
    // "These predicates are evaluated in order": the position first, then the attribute test.
    expect(failure(() => get(FIGURE_3, 'watcherinfo/watcher-list/watcher[2][@status="active"]', WATCHERINFO_NS)).status).toBe(404);
    // "If there are fewer elements in the list than the value of position, the result is a no-match."
    expect(failure(() => get(FIGURE_3, 'watcherinfo/watcher-list/watcher[3]', WATCHERINFO_NS)).status).toBe(404);
  });

  it('"If the result is multiple elements, the node selector is invalid": 404 (§8.3)', () => {
    const error = failure(() => get(FIGURE_3, 'watcherinfo/watcher-list/watcher', WATCHERINFO_NS));
    expect(error.status).toBe(404);
    expect(error.message).toContain('matches 2 elements');
  });

  it('"Each step in a node selector MUST produce a single element to form the context for the next step"', () => {
    // With a second <watcher-list>, the step watcher-list selects two elements: invalid, though only one holds the watcher.
    expect(get(FIGURE_3, 'watcherinfo/watcher-list/watcher[2]/@display-name', WATCHERINFO_NS).body).toBe('"Mr. Subscriber"');
    const twoLists = FIGURE_3.replace('</watcherinfo>', '<watcher-list resource="sip:other@example.net" package="presence"/></watcherinfo>');
    const error = failure(() => get(twoLists, 'watcherinfo/watcher-list/watcher[@id="8ajksjda7s"]', WATCHERINFO_NS));
    expect(error.status).toBe(404);
    expect(error.message).toContain('"watcherinfo/watcher-list" matches 2 elements');
  });

  it('an attribute "formatted according to the grammar of AttValue" (§7.9), as §13 Figure 32 answers it', () => {
    const node = get(FIGURE_3, 'watcherinfo/watcher-list/watcher[@id="hh8juja87s997-ass7"]/@display-name', WATCHERINFO_NS);
    expect(node).toEqual({ contentType: ATT, body: '"Mr. Subscriber"' });
    // "If there is not, the result is considered a no-match."
    expect(failure(() => get(FIGURE_3, 'watcherinfo/watcher-list/watcher[1]/@display-name', WATCHERINFO_NS)).status).toBe(404);
  });

  it('"If the prefix of the QName of an element is empty, the corresponding URI is then the default document namespace URI defined by the application usage"', () => {
    expect(failure(() => get(FIGURE_3, 'watcherinfo', 'urn:other')).status).toBe(404);
    const query = `xmlns(w=${WATCHERINFO_NS})`;
    expect(get(FIGURE_3, 'w:watcherinfo/w:watcher-list/@package', 'urn:other', query).body).toBe('"presence"');
  });

  it('"a step like "el-name[@xmlns=\'namespace\']" will never match an element"', () => {
    expect(failure(() => get(RFC4825_NAMESPACES, `foo[@xmlns='${NS_DEFAULT}']`, NS_DEFAULT)).status).toBe(404);
    const bar = "foo/a:bar[@xmlns='urn:test:namespace1-uri']";
    expect(failure(() => get(RFC4825_NAMESPACES, bar, NS_DEFAULT, 'xmlns(a=urn:test:namespace1-uri)')).status).toBe(404);
  });

  it('"extension-selector = 1*( %x00-2e / %x30-ff )": one this server does not understand is a 404 (§8)', () => {
    // §8: "If the URI includes extension-selectors that the server doesn't understand, it MUST reject the
    // request with a 404 (Not Found)."
    for (const text of ['watcherinfo/watcher-list/watcher[1]/text()', 'watcherinfo/watcher-list[last()]', 'watcherinfo/@state/x']) {
      const error = failure(() => parseNodeSelector(text, parseNamespaceBindings('')));
      expect(error.status, text).toBe(404);
      expect(error.message).toContain('extension selector');
    }
    // §8: "If any qualified names are present that use a namespace prefix, and that prefix is not defined in an
    // xmlns() expression in the query component of the request URI, the server MUST reject the request with a 400".
    expect(failure(() => parseNodeSelector('w:watcherinfo', parseNamespaceBindings(''))).status).toBe(400);
  });
});

describe('RFC 4825 §6.4: namespace bindings for the selector', () => {
  it('~~/foo/a:bar/b:baz?xmlns(a=urn:test:namespace1-uri) xmlns(b=urn:test:namespace1-uri) "will select the first <baz> child element"', () => {
    const query = 'xmlns(a=urn:test:namespace1-uri)xmlns(b=urn:test:namespace1-uri)';
    expect(get(RFC4825_NAMESPACES, 'foo/a:bar/b:baz', NS_DEFAULT, query).body).toBe('<baz/>');
  });

  it('with xmlns(b=urn:test:namespace2-uri) it "will select the second <baz> child element", as will d:foo with d bound to the default namespace', () => {
    const query = 'xmlns(a=urn:test:namespace1-uri)xmlns(b=urn:test:namespace2-uri)';
    expect(get(RFC4825_NAMESPACES, 'foo/a:bar/b:baz', NS_DEFAULT, query).body).toBe('<ns2:baz xmlns:ns2="urn:test:namespace2-uri"/>');
    const withD = `${query}xmlns(d=urn:test:default-namespace)`;
    expect(get(RFC4825_NAMESPACES, 'd:foo/a:bar/b:baz', NS_DEFAULT, withD).body).toBe('<ns2:baz xmlns:ns2="urn:test:namespace2-uri"/>');
  });

  it('the query as the RFC folds it, the xmlns() parts separated by white space, percent-encoded', () => {
    const query = '?xmlns(a=urn:test:namespace1-uri)%0A%20%20%20xmlns(b=urn:test:namespace2-uri)';
    expect(get(RFC4825_NAMESPACES, 'foo/a:bar/b:baz', NS_DEFAULT, query).body).toBe('<ns2:baz xmlns:ns2="urn:test:namespace2-uri"/>');
  });

  it('"A server compliant to this specification MUST ignore any xpointer expressions not from the xmlns() scheme"', () => {
    const query = 'xpointer(/foo^)[1])xmlns(a=urn:test:namespace1-uri) element(/1/2)xmlns(b=urn:test:namespace2-uri)';
    expect(get(RFC4825_NAMESPACES, 'foo/a:bar/b:baz', NS_DEFAULT, query).body).toBe('<ns2:baz xmlns:ns2="urn:test:namespace2-uri"/>');
    expect(parseNamespaceBindings(query).size).toBe(3); // a, b and the always-bound xml
    expect(failure(() => parseNamespaceBindings('xpointer(/foo')).status).toBe(400);
  });

  it('unprefixed baz is in the usage default namespace, and the document\'s own prefixes mean nothing in a selector', () => {
    expect(failure(() => get(RFC4825_NAMESPACES, 'foo/a:bar/baz', NS_DEFAULT, 'xmlns(a=urn:test:namespace1-uri)')).status).toBe(404);
    const error = failure(() => get(RFC4825_NAMESPACES, 'foo/ns1:bar', NS_DEFAULT));
    expect(error.status).toBe(400);
    expect(error.message).toContain('prefix "ns1"');
  });

  it('§8.3 "The server MUST NOT add namespace bindings representing namespaces used by the element or its children, but declared in ancestor elements"', () => {
    expect(get(RFC4825_NAMESPACES, 'foo/c:hi', NS_DEFAULT, 'xmlns(c=urn:test:namespace3-uri)').body).toBe(
      '<ns3:hi xmlns:ns3="urn:test:namespace3-uri">\n    <there/>\n  </ns3:hi>',
    );
  });
});

describe('RFC 4825 §10: Namespace Binding Format', () => {
  it('df:foo/df2:bar/df2:baz/namespace::* "will produce the following result"', () => {
    const query = 'xmlns(df=urn:test:default-namespace)xmlns(df2=urn:test:namespace1-uri)';
    const node = get(RFC4825_NAMESPACES, 'df:foo/df2:bar/df2:baz/namespace::*', NS_DEFAULT, query);
    expect(node.contentType).toBe('application/xcap-ns+xml');
    // The RFC prints xmlns:ns1="urn:tes:namespace1-uri", a typo: the document binds ns1 to urn:test:namespace1-uri.
    expect(node.body).toBe(
      oneLine(`<baz xmlns="urn:test:namespace1-uri"
        xmlns:ns1="urn:test:namespace1-uri"/>`),
    );
  });

  it('"the same local-name ... and also the same namespace-prefix", every binding in scope', () => {
    const bar = get(RFC4825_NAMESPACES, 'foo/a:bar/namespace::*', NS_DEFAULT, 'xmlns(a=urn:test:namespace1-uri)');
    expect(bar.body).toBe('<ns1:bar xmlns="urn:test:namespace1-uri" xmlns:ns1="urn:test:namespace1-uri"/>');
    const hi = get(RFC4825_NAMESPACES, 'foo/c:hi/namespace::*', NS_DEFAULT, 'xmlns(c=urn:test:namespace3-uri)');
    expect(hi.body).toBe('<ns3:hi xmlns="urn:test:default-namespace" xmlns:ns3="urn:test:namespace3-uri"/>');
  });

  it('§7.10 "a node selector that identifies namespace prefixes MUST NOT appear in a PUT or DELETE request": 405 with Allow: GET (§8.2, §8.4)', () => {
    const doc = parseXml(Buffer.from(RFC4825_NAMESPACES));
    const sel = parseNodeSelector('foo/namespace::*', parseNamespaceBindings(''));
    for (const run of [() => putNode(doc, sel, NS_DEFAULT, Buffer.from('<foo/>'), EL, noAncestor), () => deleteNode(doc, sel, NS_DEFAULT)]) {
      const error = failure(run);
      expect(error.status).toBe(405);
      expect(error.headers).toEqual({ Allow: 'GET' });
    }
  });
});

describe('RFC 4825 §7.4: a positional insertion into Figure 3', () => {
  const NEW = '<watcher status="pending" id="hhggff" event="subscribe">sip:userC@example.org</watcher>';

  it('"the PUT has to be made to a URI with watcherinfo/watcher-list/*[2][@id="hhggff"]": the new <watcher> becomes the second child', () => {
    const doc = parseXml(Buffer.from(FIGURE_3));
    const sel = parseNodeSelector('watcherinfo/watcher-list/*[2][@id="hhggff"]', parseNamespaceBindings(''));
    expect(putNode(doc, sel, WATCHERINFO_NS, Buffer.from(NEW), EL, noAncestor)).toEqual({ created: true });
    expect(get(serializeXml(doc), 'watcherinfo/watcher-list/*[2]', WATCHERINFO_NS).body).toBe(NEW);
    expect(get(serializeXml(doc), 'watcherinfo/watcher-list/*[3]/@id', WATCHERINFO_NS).body).toBe('"hh8juja87s997-ass7"');
  });

  it('"it cannot just PUT to a URI with the watcherinfo/watcher-list/*[2] node selector; this node selector would select the existing second child element of <watcher-list> and replace it"', () => {
    const doc = parseXml(Buffer.from(FIGURE_3));
    const sel = parseNodeSelector('watcherinfo/watcher-list/*[2]', parseNamespaceBindings(''));
    expect(putNode(doc, sel, WATCHERINFO_NS, Buffer.from(NEW), EL, noAncestor)).toEqual({ created: false });
    expect(failure(() => get(serializeXml(doc), 'watcherinfo/watcher-list/watcher[@id="hh8juja87s997-ass7"]', WATCHERINFO_NS)).status).toBe(404);
  });
});

describe('RFC 4825 §8.2.3: "The whole insert logic is best described by complete examples"', () => {
  // The RFC's <root> has no namespace: an application usage without a default document namespace ("or null if
  // not defined", §6.3).
  const NS = '';
  const START = RFC4825_INSERT_EXAMPLE;
  const bindings = parseNamespaceBindings('');

  function put(selector: string, element: string) {
    const doc = parseXml(Buffer.from(START));
    const sel = parseNodeSelector(selector, bindings);
    const result = putNode(doc, sel, NS, Buffer.from(element), EL, noAncestor);
    const after = serializeXml(doc);
    // GET(PUT(x)) == x (§7), and a DELETE of the same URI gives back the document as it was.
    expect(getNode(doc, sel, NS).body).toBe(element);
    deleteNode(doc, sel, NS);
    expect(serializeXml(doc)).toBe(START);
    return { ...result, after };
  }

  it.each(['root/el1[@att="third"]', 'root/el1[3][@att="third"]', 'root/*[3][@att="third"]'])(
    '<el1 att="third"/> at %s "has been inserted as the third <el1> element in the document, and just before the comment and whitespace nodes"',
    (selector) => {
      const { created, after } = put(selector, '<el1 att="third"/>');
      expect(created).toBe(true);
      expect(after).toBe(`<?xml version="1.0"?>
<root>
 <el1 att="first"/>
 <el1 att="second"/><el1 att="third"/>
 <!-- comment -->
 <el2 att="first"/>
</root>`);
    },
  );

  it('<el3 att="first"/> at root/el3 "would result in the following document"', () => {
    expect(put('root/el3', '<el3 att="first"/>').after).toBe(`<?xml version="1.0"?>
<root>
 <el1 att="first"/>
 <el1 att="second"/>
 <!-- comment -->
 <el2 att="first"/>
<el3 att="first"/></root>`);
  });

  it.each(['root/el2[@att="2"]', 'root/el2[2][@att="2"]'])('<el2 att="2"/> at %s "would result in the following document"', (selector) => {
    expect(put(selector, '<el2 att="2"/>').after).toBe(`<?xml version="1.0"?>
<root>
 <el1 att="first"/>
 <el1 att="second"/>
 <!-- comment -->
 <el2 att="first"/><el2 att="2"/>
</root>`);
  });

  it('"However, a selector root/*[2][@att="2"] would result in the following document"', () => {
    expect(put('root/*[2][@att="2"]', '<el2 att="2"/>').after).toBe(`<?xml version="1.0"?>
<root>
 <el1 att="first"/><el2 att="2"/>
 <el1 att="second"/>
 <!-- comment -->
 <el2 att="first"/>
</root>`);
  });

  it('"Lastly, if the node selector had been root/el2[1][@att="2"] the result would be"', () => {
    expect(put('root/el2[1][@att="2"]', '<el2 att="2"/>').after).toBe(`<?xml version="1.0"?>
<root>
 <el1 att="first"/>
 <el1 att="second"/>
 <!-- comment -->
 <el2 att="2"/><el2 att="first"/>
</root>`);
  });

  it('"When n=1 and NameorAny is wildcarded ... the new element MUST appear just before all existing elements"', () => {
    expect(put('root/*[1][@att="0"]', '<el0 att="0"/>').after).toBe(START.replace('<root>\n <el1 att="first"/>', '<root>\n <el0 att="0"/><el1 att="first"/>'));
  });

  it.each([
    ['root/*[@att="2"]', '<el1 att="2"/>', '<el1 att="second"/>', '<el1 att="second"/><el1 att="2"/>'],
    ['root/*[@att="2"]', '<el2 att="2"/>', '<el2 att="first"/>', '<el2 att="first"/><el2 att="2"/>'],
    ['root/*[@att="2"]', '<el3 att="2"/>', '</root>', '<el3 att="2"/></root>'],
  ])('"Earliest last" for a by-attr step %s: %s goes after the last sibling of its own expanded name', (selector, element, from, to) => {
    expect(put(selector, element).after).toBe(START.replace(from, to));
  });

  function refused(selector: string, element: string): XcapError {
    const doc = parseXml(Buffer.from(START));
    const error = failure(() => putNode(doc, parseNodeSelector(selector, bindings), NS, Buffer.from(element), EL, noAncestor));
    expect(serializeXml(doc)).toBe(START); // "the server MUST NOT perform the insertion"
    return error;
  }

  it.each(['root/el1[4][@att="third"]', 'root/*[5][@att="third"]', 'root/el3[2]'])(
    '%s: "If there are not n-1 sibling elements with the same expanded name, the request will fail": 409 cannot-insert',
    (selector) => {
      const error = refused(selector, selector === 'root/el3[2]' ? '<el3/>' : '<el1 att="third"/>');
      expect(error.status).toBe(409);
      expect(error.conflict?.tag).toBe('cannot-insert');
    },
  );

  it.each(['root/el1[@att="third"]', 'root/el1[3][@att="third"]', 'root/*[3][@att="third"]', 'root/el2[@att="2"]'])(
    '%s with <el1 att="fourth"/>: "the element in the body is not described by the expression in the target selector": 409 cannot-insert',
    (selector) => {
      expect(refused(selector, '<el1 att="fourth"/>').conflict?.tag).toBe('cannot-insert');
    },
  );

  it.each(['root/el1[1]', 'root/*[1]'])('%s matches <el1 att="first"/>: a replacement (§8.2.4), in place', (selector) => {
    const doc = parseXml(Buffer.from(START));
    const result = putNode(doc, parseNodeSelector(selector, bindings), NS, Buffer.from('<el1 att="third"/>'), EL, noAncestor);
    expect(result.created).toBe(false);
    expect(serializeXml(doc)).toBe(START.replace('<el1 att="first"/>', '<el1 att="third"/>'));
  });

  it('§8.2.4: "after replacement, the request URI does not select the element that was just inserted ... MUST reject the request with a 409" cannot-insert', () => {
    expect(refused('root/el1[@att="first"]', '<el1 att="fourth"/>').conflict?.tag).toBe('cannot-insert');
  });

  it('§8.4: "It is possible that, after deletion, the request URI selects another element ... 409 ... <cannot-delete>"; the last one may go (§7.5)', () => {
    const doc = parseXml(Buffer.from(START));
    const first = parseNodeSelector('root/el1[1]', bindings);
    const error = failure(() => deleteNode(doc, first, NS));
    expect(error.conflict?.tag).toBe('cannot-delete');
    expect(serializeXml(doc)).toBe(START);
    deleteNode(doc, parseNodeSelector('root/el1[2]', bindings), NS);
    expect(serializeXml(doc)).toBe(START.replace('\n <el1 att="second"/>', '\n '));
  });
});

describe('RFC 4825 §8.2.3, §8.2.4: namespace declarations of what is put', () => {
  const RL = 'urn:ietf:params:xml:ns:resource-lists';
  it('"The XCAP server MUST NOT remove redundant namespace declarations or otherwise change the namespace declarations that were present in the element being inserted"', () => {
    const doc = parseXml(Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<resource-lists xmlns="${RL}"><list name="f"/></resource-lists>`));
    const sel = parseNodeSelector('resource-lists/list/entry[@uri="sip:a@example.com"]', parseNamespaceBindings(''));
    const body = `<entry xmlns="${RL}" uri="sip:a@example.com"><display-name xmlns="${RL}" xml:lang="en">A</display-name></entry>`;
    expect(putNode(doc, sel, RL, Buffer.from(body), EL, noAncestor)).toEqual({ created: true });
    expect(getNode(doc, sel, RL).body).toBe(body);
    // §8.2.4: "replacement of an element does not result in the changing or elimination of namespace declarations"
    const replacement = `<entry xmlns:x="urn:x" uri="sip:a@example.com" x:k="1"/>`;
    expect(putNode(doc, sel, RL, Buffer.from(replacement), EL, noAncestor)).toEqual({ created: false });
    expect(getNode(doc, sel, RL).body).toBe(replacement);
  });
});

describe('RFC 4825 §7.7: attributes', () => {
  const RLS = 'urn:ietf:params:xml:ns:rls-services';
  const DOC = `<?xml version="1.0" encoding="UTF-8"?>
<rls-services xmlns="urn:ietf:params:xml:ns:rls-services">
<service uri="sip:good-friends@example.com">
  <packages>
   <package>presence</package>
  </packages>
 </service>
</rls-services>`;
  const put = (doc: ReturnType<typeof parseXml>, selector: string, body: string) =>
    putNode(doc, parseNodeSelector(selector, parseNamespaceBindings('')), RLS, Buffer.from(body), ATT, noAncestor);

  it('service[@uri="sip:good-friends@example.com"]/@uri with "sip:bad-friends@example.com": "This request will fail with a 409"', () => {
    const doc = parseXml(Buffer.from(DOC));
    const error = failure(() => put(doc, 'rls-services/service[@uri="sip:good-friends@example.com"]/@uri', '"sip:bad-friends@example.com"'));
    expect(error.status).toBe(409);
    expect(error.conflict?.tag).toBe('cannot-insert');
    expect(serializeXml(doc)).toBe(DOC);
  });

  it('"The content ... MUST be the value of the attribute, compliant to the grammar for AttValue": the quotes are not part of the value', () => {
    const doc = parseXml(Buffer.from(DOC));
    expect(put(doc, 'rls-services/service[1]/@uri', '"sip:bad-friends@example.com"')).toEqual({ created: false });
    expect(put(doc, 'rls-services/service[1]/packages/@note', "'a &amp; b'")).toEqual({ created: true });
    const after = serializeXml(doc);
    expect(after).toContain('<service uri="sip:bad-friends@example.com">');
    expect(get(after, 'rls-services/service[1]/packages/@note', RLS).body).toBe('"a &amp; b"');
    const inside = failure(() => put(doc, 'rls-services/service[1]/@uri', '"a"b"'));
    expect(inside.conflict?.tag).toBe('not-xml-att-value');
  });
});
