/**
 * htdigest files (`user:realm:HA1` per line), as Apache's `htdigest` writes them, where HA1 is the hex
 * MD5 of `user:realm:password`. A 64-digit HA1 is taken as SHA-256 of the same string (RFC 7616): give a
 * user both lines to let them answer either challenge.
 */
import { contentLines, type LineProblem, type Parsed } from './credentials-file.js';

export type DigestAlgorithm = 'SHA-256' | 'MD5';

/** What the gateway knows of one user in one realm: HA1 per algorithm (lower-case hex). */
export type Ha1s = Partial<Record<DigestAlgorithm, string>>;

/** The key of {@link parseHtdigest}'s map. */
export const userRealmKey = (user: string, realm: string): string => `${user}\0${realm}`;

/** Parses an htdigest file; every bad line is reported with its number. */
export function parseHtdigest(text: string): Parsed<ReadonlyMap<string, Ha1s>> {
  const users = new Map<string, Ha1s>();
  const problems: LineProblem[] = [];
  const firstLine = new Map<string, number>();
  for (const { line, text: entry } of contentLines(text)) {
    // The user name may not contain ':', the realm may; the HA1 is hex: split at the first and the last.
    const first = entry.indexOf(':');
    const last = entry.lastIndexOf(':');
    if (first <= 0 || last === first) {
      problems.push({ line, message: 'expected user:realm:HA1' });
      continue;
    }
    const user = entry.slice(0, first);
    const realm = entry.slice(first + 1, last);
    const ha1 = entry.slice(last + 1).toLowerCase();
    const algorithm: DigestAlgorithm | undefined = /^[0-9a-f]{32}$/.test(ha1) ? 'MD5' : /^[0-9a-f]{64}$/.test(ha1) ? 'SHA-256' : undefined;
    if (!algorithm) {
      problems.push({ line, message: `user ${JSON.stringify(user)}: HA1 must be 32 (MD5) or 64 (SHA-256) hex digits` });
      continue;
    }
    const key = userRealmKey(user, realm);
    const seen = firstLine.get(`${key}\0${algorithm}`);
    if (seen !== undefined) {
      problems.push({ line, message: `user ${JSON.stringify(user)} in realm ${JSON.stringify(realm)} already has an ${algorithm} HA1 on line ${seen}` });
      continue;
    }
    firstLine.set(`${key}\0${algorithm}`, line);
    users.set(key, { ...users.get(key), [algorithm]: ha1 });
  }
  return { value: users, problems };
}
