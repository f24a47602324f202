import { describe, expect, it } from 'vitest';
import { authParam, parseAuthParams, type AuthParams } from './auth-params.js';

/**
 * The grammar read the plain way, token by token with regular expressions (the reader this module had before
 * its one-pass scanner): the reference the scanner must agree with.
 */
function referenceReading(header: string): AuthParams | undefined {
  const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
  const SPACE = /[ \t]*/y;
  let i = 0;
  const token = (): string | undefined => {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(header);
    if (!m) return undefined;
    i = TOKEN.lastIndex;
    return m[0];
  };
  const space = () => {
    SPACE.lastIndex = i;
    SPACE.exec(header);
    i = SPACE.lastIndex;
  };
  const quotedString = (): string | undefined => {
    let out = '';
    for (i++; i < header.length; i++) {
      const c = header[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        i++;
        if (i >= header.length) return undefined;
        out += header[i];
      } else if (c < ' ' && c !== '\t') {
        return undefined;
      } else {
        out += c;
      }
    }
    return undefined;
  };
  const scheme = token();
  if (!scheme || (header[i] !== ' ' && i !== header.length)) return undefined;
  const params = new Map<string, string>();
  space();
  while (i < header.length) {
    const name = token()?.toLowerCase();
    if (!name) return undefined;
    space();
    if (header[i++] !== '=') return undefined;
    space();
    const value = header[i] === '"' ? quotedString() : token();
    if (value === undefined || params.has(name)) return undefined;
    params.set(name, value);
    space();
    if (i === header.length) break;
    if (header[i++] !== ',') return undefined;
    while (header[i] === ',' || header[i] === ' ' || header[i] === '\t') i++;
  }
  return { scheme: scheme.toLowerCase(), params };
}

/** A reading in one comparable form. */
const read = (parse: (header: string) => AuthParams | undefined, header: string) => {
  const r = parse(header);
  return r === undefined ? undefined : { scheme: r.scheme, params: [...r.params] };
};

const REAL = [
  'Digest username="phone0456", realm="example.com", nonce="AAABjK3lq8QxYzAbCdEfGhIjKlMnOpQrStUvWxYz01234567", uri="sip:phone0123@example.com", response="0123456789abcdef0123456789abcdef", algorithm=MD5, cnonce="abcdef012345", opaque="abcdefghijklmnopqrstuv", qop=auth, nc=00000001',
  'Digest username="a\\"b\\\\c", realm="example.com"',
  'digest  Username = "x" ,, , nc=1,',
  'Basic dXNlcjpwYXNz',
  'Digest',
  'Digest ',
  'Digest a=1, a=2',
  'Digest a="unterminated',
  'Digest a="ends in a backslash\\',
  'Digest a="bad\x01control"',
  'Digest a="tab\tok"',
  'Digest a=',
  'Digest =1',
  'Digest a=1 b=2',
  'Digest\ta=1',
  ' Digest a=1',
  'Digest a=1;b=2',
  'Digest a="é ü", b="\\é"',
];


describe('parseAuthParams', () => {
  it('reads tokens and quoted strings with escapes, names in lower case', () => {
    const parsed = parseAuthParams('Digest username="Mufasa", Realm="a \\"b\\" c",nc=00000001 ,  qop=auth, , uri="/x,y"');
    expect(parsed?.scheme).toBe('digest');
    expect(Object.fromEntries(parsed!.params)).toEqual({ username: 'Mufasa', realm: 'a "b" c', nc: '00000001', qop: 'auth', uri: '/x,y' });
  });

  it.each(['', 'Digest username="unterminated', 'Digest a=1 b=2', 'Digest a=1, a=2', 'Digest =1', 'Digest a=', 'Digest,a=1', 'Digest a="x\u0001"', 'Digest a="x"y'])(
    'refuses %j',
    (header) => expect(parseAuthParams(header)).toBeUndefined(),
  );

  it('round-trips what authParam writes', () => {
    const value = 'he said "hi" \\ bye';
    expect(parseAuthParams(`X ${authParam('v', value)}`)?.params.get('v')).toBe(value);
  });
  it('answers as the reference reading does, on real headers and on 30,000 generated ones', () => {
    for (const h of REAL) expect([h, read(parseAuthParams, h)]).toEqual([h, read(referenceReading, h)]);
    // headers built from the grammar's pieces (spaces, tabs, empty list elements, quoted-pairs, repeats), a third
    // of them then broken by one character put anywhere: both well-formed and malformed ones are compared
    let seed = 12345;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    const pick = <T,>(xs: readonly T[]): T => xs[random(xs.length)]!;
    const quoted = () => `"${Array.from({ length: random(5) }, () => pick(['x', ' ', '\\"', '\\\\', '\t', 'é', ',', '=', '\x01'])).join('')}"`;
    const param = () => `${pick(['a', 'nc', 'Realm', 'x1', 'a'])}${pick(['', ' ', '\t'])}=${pick(['', ' '])}${random(2) === 0 ? pick(['1', 'abc', 'MD5', 'a-b.c']) : quoted()}`;
    let accepted = 0;
    for (let k = 0; k < 30_000; k++) {
      let h = `${pick(['Digest', 'digest', 'Basic', ''])}${pick([' ', '', '  ', '\t'])}`;
      for (let j = random(5); j > 0; j--) h += param() + (j > 1 ? pick([',', ', ', ',\t', ' , ,', ',,', ' ']) : pick(['', ',', ' ']));
      if (random(3) === 0) {
        const at = random(h.length + 1);
        h = h.slice(0, at) + pick(['"', '\\', ',', '=', ' ', '\t', ';', '\r', 'é']) + h.slice(at);
      }
      const mine = read(parseAuthParams, h);
      if (mine !== undefined) accepted++;
      expect([h, mine]).toEqual([h, read(referenceReading, h)]);
    }
    // the comparison covered well-formed headers too, not only refusals
    expect(accepted).toBeGreaterThan(5000);
  });
});
