import { describe, expect, it } from 'vitest';
import { APACHE_HTPASSWD } from '@wsgate/test-kit';
import { parseHtpasswd, verifyPassword } from './htpasswd.js';


describe('parseHtpasswd and verifyPassword', () => {
  it('reads every format htpasswd writes, with plain text only when asked', async () => {
    const { value, problems } = parseHtpasswd(APACHE_HTPASSWD, { plain: true });
    expect(problems).toEqual([]);
    expect([...value].map(([user, h]) => [user, h.kind])).toEqual([
      ['bob', 'bcrypt'],
      ['amy', 'apr1'],
      ['sam', 'sha1'],
      ['pat', 'plain'],
    ]);
    for (const [user, password] of [['bob', 'b0b-bcrypt'], ['amy', 'amy-apr1'], ['sam', 'sam-sha'], ['pat', 'pat-plain']] as const) {
      expect(await verifyPassword(value.get(user)!, password)).toBe(true);
      expect(await verifyPassword(value.get(user)!, `${password}x`)).toBe(false);
    }
  });

  it('accepts the $2a$ and $2b$ spellings of bcrypt', async () => {
    const hash = '$2y$05$JoHAqFrYPkZlWWYZ.H.LzOpCTrSSawRy9IGQX9ePhgWy7Xv3FRGl6';
    for (const variant of ['$2a$', '$2b$']) {
      const { value } = parseHtpasswd(`bob:${hash.replace('$2y$', variant)}`);
      expect(await verifyPassword(value.get('bob')!, 'b0b-bcrypt')).toBe(true);
    }
  });

  it('reports every bad line with its number', () => {
    const { problems } = parseHtpasswd(['ok:{SHA}gMxwR5QqjSnLKt6VB4+v6B2CbNk=', 'no-colon', ':nouser', 'des:rOhwlj0KQWUOE', 'md5crypt:$1$abc$def', 'plain:secret', 'ok:{SHA}gMxwR5QqjSnLKt6VB4+v6B2CbNk=', 'empty:'].join('\n'));
    expect(problems.map((p) => p.line)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(problems[2]!.message).toContain('DES crypt');
    expect(problems[3]!.message).toContain('crypt(3)');
    expect(problems[4]!.message).toContain('plain option');
    expect(problems[5]!.message).toBe('user "ok" is already on line 1');
  });
});
