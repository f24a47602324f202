/**
 * Apache htpasswd files (`user:hash` per line) and the hash formats `htpasswd` writes: bcrypt (`-B`),
 * Apache MD5 (`$apr1$`, the default of older versions), SHA-1 (`-s`, `{SHA}`) and plain text (`-p`).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import bcrypt from 'bcryptjs';
import { contentLines, type LineProblem, type Parsed } from './credentials-file.js';
import { safeEqual } from '../../kit/secure-compare.js';

export type HashKind = 'bcrypt' | 'apr1' | 'sha1' | 'plain';

export interface PasswordHash {
  readonly kind: HashKind;
  readonly hash: string;
}

// apache-md5 is CommonJS (module.exports = fn) but its typings declare an ES default export, which TypeScript
// under NodeNext types as a namespace; require() gets the function its typings describe.
const aprMd5 = createRequire(import.meta.url)('apache-md5') as (password: string, salt?: string) => string;

const FORMATS: ReadonlyArray<readonly [HashKind, RegExp]> = [
  ['bcrypt', /^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$/],
  ['apr1', /^\$apr1\$[./0-9A-Za-z]{1,8}\$[./0-9A-Za-z]{22}$/],
  ['sha1', /^\{SHA\}[A-Za-z0-9+/]{27}=$/],
];

/** Formats htpasswd or crypt(3) can produce that are not supported, and what to do instead. */
const UNSUPPORTED: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\$(1|5|6|y|7|md5)\$/, 'a crypt(3) hash ($1$, $5$, $6$…), not supported'],
  [/^[./0-9A-Za-z]{13}$/, 'looks like a DES crypt hash, not supported'],
  [/^\$/, 'an unknown $…$ hash'],
];

export interface HtpasswdOptions {
  /** Accept unrecognised values as plain-text passwords (`htpasswd -p`): for tests only. */
  readonly plain?: boolean;
}

/** Parses an htpasswd file; every bad line is reported with its number. */
export function parseHtpasswd(text: string, options: HtpasswdOptions = {}): Parsed<ReadonlyMap<string, PasswordHash>> {
  const users = new Map<string, PasswordHash>();
  const firstLine = new Map<string, number>();
  const problems: LineProblem[] = [];
  for (const { line, text: entry } of contentLines(text)) {
    const colon = entry.indexOf(':');
    const user = colon < 0 ? '' : entry.slice(0, colon);
    if (user === '') {
      problems.push({ line, message: 'expected user:hash' });
      continue;
    }
    const hash = entry.slice(colon + 1);
    const kind = hashKind(hash, options.plain === true);
    if (typeof kind === 'object') {
      problems.push({ line, message: `user ${JSON.stringify(user)}: ${kind.problem}; use bcrypt (htpasswd -B)` });
      continue;
    }
    const seen = firstLine.get(user);
    if (seen !== undefined) {
      problems.push({ line, message: `user ${JSON.stringify(user)} is already on line ${seen}` });
      continue;
    }
    firstLine.set(user, line);
    users.set(user, { kind, hash });
  }
  return { value: users, problems };
}

function hashKind(hash: string, plain: boolean): HashKind | { problem: string } {
  for (const [kind, shape] of FORMATS) if (shape.test(hash)) return kind;
  if (plain) return 'plain';
  if (hash === '') return { problem: 'empty password hash' };
  for (const [shape, problem] of UNSUPPORTED) if (shape.test(hash)) return { problem };
  return { problem: 'not a recognised hash (plain-text passwords need the plain option, for tests only)' };
}

/**
 * Does `password` match the stored hash? bcrypt compares in its own constant time; the others compare
 * digests with `timingSafeEqual`. bcrypt is slow by design (tens of ms): callers cache successes.
 */
export async function verifyPassword(stored: PasswordHash, password: string): Promise<boolean> {
  switch (stored.kind) {
    case 'bcrypt':
      return bcrypt.compare(password, stored.hash);
    case 'apr1':
      return safeEqual(aprMd5(password, stored.hash), stored.hash);
    case 'sha1':
      return safeEqual(`{SHA}${createHash('sha1').update(password, 'utf8').digest('base64')}`, stored.hash);
    case 'plain':
      return safeEqual(password, stored.hash);
  }
}
