import { describe, expect, it } from 'vitest';
import { parseXml, serializeXml } from './xml.js';
import { XcapError } from './xcap-error.js';

/** The XcapError a parse throws, or a failure when it parses. */
function refusal(bytes: Buffer | string): XcapError {
  try {
    parseXml(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(XcapError);
    return error as XcapError;
  }
  throw new Error(`parsed: ${String(bytes)}`);
}

const RL = 'urn:ietf:params:xml:ns:resource-lists';

describe('parseXml', () => {
  it('parses a UTF-8 document with non-ASCII text, a BOM and an XML declaration', () => {
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<resource-lists xmlns="${RL}"><list name="amis"><display-name>Zoë ✓ 😀</display-name></list></resource-lists>`, 'utf8'),
    ]);
    const doc = parseXml(body);
    expect(doc.documentElement?.namespaceURI).toBe(RL);
    expect(doc.documentElement?.localName).toBe('resource-lists');
    expect(doc.getElementsByTagName('display-name').item(0)?.textContent).toBe('Zoë ✓ 😀');
  });

  it('keeps a U+FFFD sent as valid UTF-8 (xmldom only warns about it)', () => {
    expect(parseXml(Buffer.from('<a>\uFFFD</a>', 'utf8')).documentElement?.textContent).toBe('\uFFFD');
  });

  it('accepts ]]> and > in an attribute value, and > in text', () => {
    const doc = parseXml(Buffer.from('<a b="]]>" c=\'>\'>x > y</a>'));
    expect(doc.documentElement?.getAttribute('b')).toBe(']]>');
    expect(doc.documentElement?.textContent).toBe('x > y');
  });

  it('accepts an & inside comments, CDATA sections and processing instructions, and real references', () => {
    const doc = parseXml(Buffer.from('<a><!-- a & b --><![CDATA[x & y]]><?pi 1 & 2?>&amp;&#38;&#x26;&lt;</a>'));
    expect(doc.documentElement?.textContent).toBe('x & y&&&<');
  });

  it('parses in the namespace context it is given (an element put below a parent)', () => {
    const doc = parseXml(Buffer.from('<entry uri="sip:a@b"><p:x/></entry>'), { '': RL, p: 'urn:p' });
    expect(doc.documentElement?.namespaceURI).toBe(RL);
    expect(doc.documentElement?.firstChild?.namespaceURI).toBe('urn:p');
  });

  it.each([
    ['Latin-1 é', Buffer.from([0x3c, 0x61, 0x3e, 0xe9, 0x3c, 0x2f, 0x61, 0x3e])],
    ['an overlong /', Buffer.from([0x3c, 0x61, 0x3e, 0xc0, 0xaf, 0x3c, 0x2f, 0x61, 0x3e])],
    ['a UTF-16LE document with its BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a/>', 'utf16le')])],
    ['a lone surrogate in CESU-8', Buffer.from([0x3c, 0x61, 0x3e, 0xed, 0xa0, 0x80, 0x3c, 0x2f, 0x61, 0x3e])],
    ['a truncated sequence', Buffer.from([0x3c, 0x61, 0x3e, 0xe2, 0x82, 0x3c, 0x2f, 0x61, 0x3e])],
  ])('refuses %s with 409 not-utf-8', (_name, bytes) => {
    const error = refusal(bytes);
    expect(error.status).toBe(409);
    expect(error.conflict?.tag).toBe('not-utf-8');
  });

  it('refuses a document that declares another encoding with 409 not-utf-8', () => {
    const error = refusal('<?xml version="1.0" encoding="ISO-8859-1"?><a/>');
    expect(error.conflict?.tag).toBe('not-utf-8');
    expect(error.conflict?.phrase).toContain('ISO-8859-1');
  });

  it('refuses an XXE attempt before parsing, reading no file', () => {
    const xxe = '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<r>&xxe;</r>';
    const error = refusal(xxe);
    expect(error.status).toBe(409);
    expect(error.conflict?.tag).toBe('not-well-formed');
    expect(error.conflict?.phrase).toMatch(/DTDs are not accepted/);
    expect(error.message).not.toContain('root:');
  });

  it('refuses a billion-laughs document at once', () => {
    const entities = ['<!ENTITY lol "lol">'];
    for (let i = 1; i <= 9; i++) entities.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
    const laughs = `<?xml version="1.0"?>\n<!-- laughs -->\n<!DOCTYPE lolz [\n${entities.join('\n')}\n]>\n<lolz>&lol9;</lolz>`;
    const started = performance.now();
    const error = refusal(laughs);
    expect(performance.now() - started).toBeLessThan(500); // expanding it would take seconds and gigabytes
    expect(error.conflict?.tag).toBe('not-well-formed');
    expect(error.conflict?.phrase).toMatch(/DTDs are not accepted/);
  });

  it.each([
    ['after the root element', '<a/><!DOCTYPE a>'],
    ['inside the root element', '<a><!DOCTYPE a></a>'],
    ['in lower case', '<!doctype a><a/>'],
    ['after a BOM, a declaration, a comment and a PI', '\uFEFF<?xml version="1.0"?>\n<!-- c --><?pi x?>\n<!DOCTYPE a SYSTEM "http://127.0.0.1:1/x.dtd"><a/>'],
  ])('refuses a DOCTYPE %s', (_name, text) => {
    expect(refusal(text).conflict?.tag).toBe('not-well-formed');
  });

  it.each([
    ['a 1 MB text', `<a>${'&amp;x y '.repeat(100_000)}</a>`, undefined],
    ['a 1 MB run of unfinished references', `<a>${'&aaaaaaaaa'.repeat(100_000)}</a>`, 'not-well-formed'],
    ['200 000 unclosed tags', `<a>${'<b'.repeat(200_000)}</a>`, 'not-well-formed'],
    ['200 000 quotes in a tag', `<a ${'"'.repeat(200_000)}/>`, 'not-well-formed'],
    ['200 000 unterminated comments', `<a>${'<!--'.repeat(200_000)}</a>`, 'not-well-formed'],
  ])('checks %s in bounded time', (_name, text, tag) => {
    const started = performance.now();
    if (tag) expect(refusal(text).conflict?.tag).toBe(tag);
    else expect(parseXml(Buffer.from(text)).documentElement?.localName).toBe('a');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('does not mistake a DOCTYPE in a comment or CDATA section for one', () => {
    expect(parseXml(Buffer.from('<!-- <!DOCTYPE x> --><a><![CDATA[<!DOCTYPE y>]]></a>')).documentElement?.textContent).toBe('<!DOCTYPE y>');
  });

  it.each([
    ['an empty body', ''],
    ['only white space', '  \n'],
    ['an unclosed element', '<a>'],
    ['mismatched tags', '<a></b>'],
    ['two root elements', '<a/><b/>'],
    ['text after the root', '<a/>x'],
    ['text before the root', 'x<a/>'],
    ['an unquoted attribute value', '<a b=1/>'],
    ['an attribute with no value', '<a b/>'],
    ['attributes with no space between them', '<a c="1"d="2"/>'],
    ['a duplicated attribute', '<a b="1" b="2"/>'],
    ['a < in an attribute value', '<a b="<"/>'],
    ['mismatched quotes', `<a b="x'/>`],
    ['a name that starts with a digit', '<1a/>'],
    ['an unbound prefix', '<p:a/>'],
    ['an undefined entity', '<a>&nbsp;</a>'],
    ['a reference with no ;', '<a>&amp</a>'],
    ['a bare &', '<a>fish & chips</a>'],
    ['a bare & in an attribute', '<a b="x & y"/>'],
    ['a bare & in a single-quoted attribute after a >', `<a c=">" b='x & y'/>`],
    ['a bare & in text after a tag', '<a><b c="&amp;"/> & </a>'],
    [']]> in text', '<a>x ]]> y</a>'],
    ['-- inside a comment', '<a><!-- -- --></a>'],
    ['an XML declaration not at the start', '<a><?xml version="1.0"?></a>'],
    ['a control character', '<a>\u0001</a>'],
    ['a form feed', '<a>\u000C</a>'],
  ])('refuses %s with 409 not-well-formed', (_name, text) => {
    const error = refusal(text);
    expect(error.status).toBe(409);
    expect(error.conflict?.tag).toBe('not-well-formed');
    expect(error.conflict?.phrase).toMatch(/^not well-formed XML \(.+\)$/);
  });
});

describe('serializeXml', () => {
  it('writes back what it parsed, the XML declaration kept', () => {
    const text = `<?xml version="1.0" encoding="UTF-8"?>\n<resource-lists xmlns="${RL}"><list name="a &amp; b"><entry uri="sip:x@y"/></list></resource-lists>`;
    expect(serializeXml(parseXml(Buffer.from(text)))).toBe(text);
  });

  it('writes an element with the namespace declaration it inherits', () => {
    const doc = parseXml(Buffer.from(`<resource-lists xmlns="${RL}"><list name="a"/></resource-lists>`));
    const list = doc.getElementsByTagName('list').item(0);
    expect(list && serializeXml(list)).toBe(`<list name="a" xmlns="${RL}"/>`);
  });
});
