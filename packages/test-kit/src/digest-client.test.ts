import { describe, expect, it } from 'vitest';
import { digestAuthorization, digestChallenges } from './digest-client.js';

describe('the tests\' digest client', () => {
  it('reproduces RFC 7616 §3.9.1 for MD5 and SHA-256', () => {
    const c = { realm: 'http-auth@example.org', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS' };
    const a = { user: 'Mufasa', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' };
    expect(digestAuthorization({ ...c, algorithm: 'MD5' }, a)).toContain('response="8ca523f5e9506fed4657c9700eebdbec"');
    expect(digestAuthorization({ ...c, algorithm: 'SHA-256' }, a)).toContain('response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"');
  });

  it('reads several challenges from one value and from several values', () => {
    const one = 'Digest realm="a", qop="auth", algorithm=SHA-256, nonce="n1", opaque="o", Digest realm="a", qop="auth", algorithm=MD5, nonce="n2", opaque="o"';
    expect(digestChallenges(one).map((c) => [c.algorithm, c.nonce])).toEqual([['SHA-256', 'n1'], ['MD5', 'n2']]);
    expect(digestChallenges(['Digest realm="b", nonce="x", algorithm=MD5, stale=true', 'Digest realm="b", nonce="y"']).map((c) => c.nonce)).toEqual(['x', 'y']);
  });
});
