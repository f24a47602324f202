import { describe, expect, it } from 'vitest';
import { parseNamespaceBindings } from './namespace-bindings.js';
import { XML_NAMESPACE } from './xml-names.js';
import { XcapError } from '../xcap-error.js';

function refusal(query: string): XcapError {
  try {
    parseNamespaceBindings(query);
  } catch (error) {
    expect(error).toBeInstanceOf(XcapError);
    return error as XcapError;
  }
  throw new Error(`parsed: ${query}`);
}

describe('parseNamespaceBindings', () => {
  it('reads the RFC 4825 §6.4 query, with or without its "?"', () => {
    for (const query of [
      'xmlns(a=urn:test:namespace1-uri)xmlns(b=urn:test:namespace2-uri)',
      '?xmlns(a=urn:test:namespace1-uri)xmlns(b=urn:test:namespace2-uri)',
    ]) {
      const bindings = parseNamespaceBindings(query);
      expect(bindings.get('a')).toBe('urn:test:namespace1-uri');
      expect(bindings.get('b')).toBe('urn:test:namespace2-uri');
      expect(bindings.get('xml')).toBe(XML_NAMESPACE);
      expect(bindings.size).toBe(3);
    }
  });

  it('binds only xml for an empty query', () => {
    expect([...parseNamespaceBindings('')]).toEqual([['xml', XML_NAMESPACE]]);
    expect([...parseNamespaceBindings('?')]).toEqual([['xml', XML_NAMESPACE]]);
  });

  it('percent-decodes the query as sent, allows white space between parts and XPointer ^ escapes', () => {
    const bindings = parseNamespaceBindings('xmlns(p%3Durn%3Aa)%20xmlns(q=http://x/a^(b^)^^c)');
    expect(bindings.get('p')).toBe('urn:a');
    expect(bindings.get('q')).toBe('http://x/a(b)^c');
  });

  it('RFC 4825 §6.4: "MUST ignore any xpointer expressions not from the xmlns() scheme"', () => {
    const bindings = parseNamespaceBindings('element(/1/2)xmlns(p=urn:a) xpointer(id(a^)b))foo:bar(a(b)c)xmlns(q=urn:b)');
    expect([...bindings]).toEqual([['xml', XML_NAMESPACE], ['p', 'urn:a'], ['q', 'urn:b']]);
  });

  it('lets a later part rebind a prefix', () => {
    expect(parseNamespaceBindings('xmlns(p=urn:a)xmlns(p=urn:b)').get('p')).toBe('urn:b');
  });

  it.each([
    ['text that is no pointer part', 'foo', 'offset 0'],
    ['an unclosed part of another scheme', 'xpointer(/a[1]', 'expected ")" closing xpointer('],
    ['a missing "="', 'xmlns(purn:a)', 'expected "prefix=namespace"'],
    ['a prefix that is not an NCName', 'xmlns(1p=urn:a)', 'is not an NCName'],
    ['a prefix with a colon', 'xmlns(a:b=urn:a)', 'is not an NCName'],
    ['an unclosed part', 'xmlns(p=urn:a', 'expected ")"'],
    ['an unescaped "("', 'xmlns(p=urn:(a)', 'must be written "^("'],
    ['a bad ^ escape', 'xmlns(p=urn:^a)', 'must be followed by'],
    ['an empty namespace', 'xmlns(p=)', 'empty namespace name'],
    ['the xmlns prefix', 'xmlns(xmlns=urn:a)', 'cannot be bound'],
    ['xml bound elsewhere', 'xmlns(xml=urn:a)', 'can only be bound'],
    ['the xmlns namespace', 'xmlns(p=http://www.w3.org/2000/xmlns/)', 'no prefix can be bound'],
    ['a bad percent escape', 'xmlns(p=urn:%E0%A4)', 'not valid UTF-8'],
    ['trailing garbage', 'xmlns(p=urn:a)x', 'offset 14'],
  ])('refuses %s with 400', (_name, query, reason) => {
    const error = refusal(query);
    expect(error.status).toBe(400);
    expect(error.message).toContain(reason);
  });
});
