/**
 * Token files in a directory, the source documents' nginx setup made safe:
 *
 *     if (!-f /var/lib/nginx/tokens/$cookie_AUTH) { return 403; }
 *
 * There, a cookie of `../../../etc/passwd` names a file that exists. Here a token must match
 * {@link OPAQUE_TOKEN} before any file-system call, so it can only name a file directly in the directory.
 */
import { statSync } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { invalidOption, knownKeys, seconds } from '../../kit/option-checks.js';
import { OPAQUE_TOKEN, opaqueTokenId, type TokenInfo, type TokenStore } from './token-store.js';

export interface DirectoryTokensOptions {
  /** The directory: a token is valid while a regular file of that name is in it. */
  readonly dir: string;
  /** Seconds a token file stays valid after it was last modified; absent: until it is deleted. */
  readonly ttl?: number;
  /**
   * Seconds a token found valid is remembered, so that a client reconnecting (or a burst of handshakes
   * with one token) costs no file look-up: each one is a trip through libuv's thread pool, most of the price
   * of this store. A file deleted by hand stops counting this much later; `revoke()` forgets at once; an
   * unknown token is never remembered, so a new file counts at once. 0 disables. Default 1.
   */
  readonly cacheTtl?: number;
}

/** The most tokens remembered; past it the memory is emptied (cheaper than tracking age, and rare). */
const MAX_REMEMBERED = 10_000;

/**
 * @example const tokens = directoryTokens({ dir: '/var/lib/wsgate/tokens' });
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` when `dir` is not an existing directory.
 */
export function directoryTokens(options: DirectoryTokensOptions): TokenStore {
  const o = knownKeys('directoryTokens()', options, ['dir', 'ttl', 'cacheTtl']);
  if (typeof o.dir !== 'string' || o.dir === '') throw invalidOption('directoryTokens().dir', 'give the token directory, e.g. dir: "/var/lib/wsgate/tokens"');
  const dir = path.resolve(o.dir);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw invalidOption('directoryTokens().dir', `${dir} is not an existing directory: create it, or fix the path`);
  const ttlMs = o.ttl === undefined ? undefined : seconds('directoryTokens().ttl', o.ttl, 0, 1, 10 * 365 * 86_400) * 1000;
  const cacheMs = seconds('directoryTokens().cacheTtl', o.cacheTtl, 1, 0, 3600) * 1000;
  const remembered = new Map<string, { info: TokenInfo; until: number }>();

  /** The token's file, or undefined for a token that must not reach the file system. */
  const fileOf = (token: string): string | undefined => (OPAQUE_TOKEN.test(token) ? path.join(dir, token) : undefined);

  /** The file system's answer, remembered for `cacheMs` when the token is valid. */
  const lookUp = async (token: string, file: string, now: number): Promise<TokenInfo | undefined> => {
    let info: TokenInfo | undefined;
    try {
      // lstat: a symbolic link planted in the directory does not count as a token.
      const stats = await lstat(file);
      if (!stats.isFile()) return undefined;
      const expiresAt = ttlMs === undefined ? undefined : stats.mtimeMs + ttlMs;
      if (expiresAt !== undefined && expiresAt <= now) return undefined;
      info = expiresAt === undefined ? { id: opaqueTokenId(token) } : { id: opaqueTokenId(token), expiresAt };
    } catch {
      return undefined;
    }
    if (cacheMs > 0) {
      if (remembered.size >= MAX_REMEMBERED) remembered.clear();
      remembered.set(token, { info, until: now + cacheMs });
    }
    return info;
  };

  return {
    verify(token): TokenInfo | undefined | Promise<TokenInfo | undefined> {
      // Only strict tokens are ever remembered, so a hit needs no other check.
      const now = Date.now();
      const hit = remembered.get(token);
      if (hit && hit.until > now && (hit.info.expiresAt === undefined || hit.info.expiresAt > now)) return hit.info;
      const file = fileOf(token);
      if (file === undefined) return undefined;
      return lookUp(token, file, now);
    },
    async revoke(token) {
      const file = fileOf(token);
      if (file === undefined) return undefined;
      remembered.delete(token);
      // Already gone (deleted by hand) is fine: its connections must still be found.
      await unlink(file).catch(() => undefined);
      return opaqueTokenId(token);
    },
    async close() {
      remembered.clear();
    },
  };
}
