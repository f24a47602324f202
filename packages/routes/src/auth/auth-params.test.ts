import { describe, expect, it } from 'vitest';
import { authParam, parseAuthParams } from './auth-params.js';

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
});
