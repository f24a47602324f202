import { describe, expect, it } from 'vitest';
import { parseNodeSelector } from './node-selector.js';
import { parseNamespaceBindings } from './namespace-bindings.js';
import { XcapError } from '../xcap-error.js';

const bindings = parseNamespaceBindings('xmlns(a=urn:a)xmlns(b=urn:b)');

function refusal(text: string): XcapError {
  try {
    parseNodeSelector(text, bindings);
  } catch (error) {
    expect(error).toBeInstanceOf(XcapError);
    return error as XcapError;
  }
  throw new Error(`parsed: ${text}`);
}

describe('parseNodeSelector', () => {
  it('parses each kind of step of RFC 4825 §6.3', () => {
    const sel = parseNodeSelector('resource-lists/*/list[2]/entry[@uri="sip:a@b/c"]/a:x[3][@b:y=\'1\']', bindings);
    expect(sel.terminal).toBeUndefined();
    expect(sel.steps.map((s) => s.text)).toEqual(['resource-lists', '*', 'list[2]', 'entry[@uri="sip:a@b/c"]', "a:x[3][@b:y='1']"]);
    const [root, any, byPos, byAttr, byPosAttr] = sel.steps;
    expect(root?.name).toEqual({ text: 'resource-lists', prefix: null, localName: 'resource-lists', namespace: null });
    expect(any?.name).toBe('*');
    expect(byPos?.position).toBe(2);
    expect(byPos?.attribute).toBeUndefined();
    expect(byAttr?.attribute?.value).toBe('sip:a@b/c');
    expect(byAttr?.attribute?.name.namespace).toBeNull();
    expect(byPosAttr?.name).toEqual({ text: 'a:x', prefix: 'a', localName: 'x', namespace: 'urn:a' });
    expect(byPosAttr?.position).toBe(3);
    expect(byPosAttr?.attribute).toEqual({ name: { text: 'b:y', prefix: 'b', localName: 'y', namespace: 'urn:b' }, value: '1' });
  });

  it('parses an attribute selector and the namespace selector as the terminal', () => {
    const att = parseNodeSelector('a/b/@c', bindings);
    expect(att.steps).toHaveLength(2);
    expect(att.terminal).toEqual({ kind: 'attribute', name: { text: 'c', prefix: null, localName: 'c', namespace: null } });
    expect(parseNodeSelector('a/b/@xml:lang', bindings).terminal).toMatchObject({ name: { namespace: 'http://www.w3.org/XML/1998/namespace' } });
    expect(parseNodeSelector('a/b/namespace::*', bindings).terminal).toEqual({ kind: 'namespace' });
  });

  it('reads an element named namespace as an element', () => {
    expect(parseNodeSelector('a/namespace/b', bindings).steps.map((s) => s.text)).toEqual(['a', 'namespace', 'b']);
  });

  it('decodes the attribute value as an XML AttValue, in either quotes', () => {
    const sel = parseNodeSelector(`r/e[@v="it's &quot;x&quot; &amp; &lt;y&gt; &#65;&#x42;"]/f[@w='say "hi"']`, bindings);
    expect(sel.steps[1]?.attribute?.value).toBe(`it's "x" & <y> AB`);
    expect(sel.steps[2]?.attribute?.value).toBe('say "hi"');
  });

  it('accepts non-ASCII names', () => {
    expect(parseNodeSelector('liste/entrée[@nom="é"]', bindings).steps[1]?.name).toMatchObject({ localName: 'entrée' });
  });

  it.each([
    ['an empty selector', '', 'at the end: expected an element name or "*"'],
    ['a leading /', '/a', 'offset 0'],
    ['a trailing /', 'a/', 'at the end'],
    ['an empty step', 'a//b', 'offset 2'],
  ])('refuses %s with 400: no step can be empty', (_name, text, reason) => {
    const error = refusal(text);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^bad node selector /);
    expect(error.message).toContain(reason);
  });

  // RFC 4825 §6.3: "extension-selector = 1*( %x00-2e / %x30-ff )  ; anything but "/"", so a step that is none of
  // the other forms is an extension selector, and §8: "If the URI includes extension-selectors that the server
  // doesn't understand, it MUST reject the request with a 404 (Not Found)."
  it.each([
    ['an attribute selector alone', '@a', 'offset 0'],
    ['namespace::* alone', 'namespace::*', 'offset 10'],
    ['a step after an attribute selector', 'a/@b/c', 'expected the end'],
    ['a step after namespace::*', 'a/namespace::*/c', 'expected the end'],
    ['an unclosed position', 'a/b[1', 'expected "]" after the position'],
    ['an unclosed attribute test', 'a/b[@c="d"', 'expected "]" after the attribute value'],
    ['a position after the attribute test', 'a/b[@c="d"][1]', 'nothing may follow the attribute test'],
    ['two positions', 'a/b[1][2]', 'at most one position'],
    ['a negative position', 'a/b[-1]', 'expected a position or "@"'],
    ['a huge position', 'a/b[99999999999999999999]', 'is too large'],
    ['an unquoted value', 'a/b[@c=d]', 'expected a quoted attribute value'],
    ['an unclosed value', 'a/b[@c="d]', 'closing " of the attribute value'],
    ['a < in a value', 'a/b[@c="<"]', 'must be written &lt;'],
    ['an unknown entity in a value', 'a/b[@c="&nbsp;"]', 'not a predefined entity'],
    ['a bare & in a value', 'a/b[@c="&"]', 'starts no reference'],
    ['a control character in a value', 'a/b[@c="\u0001"]', 'not allowed in XML'],
    ['spaces in a step', 'a/b [1]', 'expected "/" or the end'],
    ['an XPath axis', 'a/child::b', 'expected a local name after "child:"'],
    ['an XPath function', 'a/b[last()]', 'expected a position or "@"'],
    ['a name starting with a digit', 'a/1b', 'expected an element name'],
    ['a prefix with no local name', 'a/b:', 'expected a local name after "b:"'],
    ['a wildcard attribute', 'a/@*', 'expected an attribute name'],
    ['a double-colon name', 'r/a:y:z', 'offset 5'],
  ])('answers %s with 404: an extension selector this server does not understand', (_name, text, reason) => {
    const error = refusal(text);
    expect(error.status).toBe(404);
    expect(error.message).toMatch(/^bad node selector /);
    expect(error.message).toContain(reason);
    expect(error.message).toContain('is an extension selector this server does not understand (RFC 4825 §8)');
  });

  it('refuses a prefix the query does not bind, naming it and the fix', () => {
    for (const text of ['r/c:x', 'r/x[@c:y="1"]', 'r/@c:y', 'c:r']) {
      const error = refusal(text);
      expect(error.status).toBe(400);
      expect(error.message).toContain('prefix "c"');
      expect(error.message).toContain('add xmlns(c=<namespace>) to the query');
    }
  });
});
