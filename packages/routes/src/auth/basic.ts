/**
 * HTTP Basic authentication (RFC 7617) against an htpasswd file, as nginx's `auth_basic` /
 * `auth_basic_user_file`.
 */
import { MemoryStore } from '@wsgate/core';
import { boolean, invalidOption, knownKeys, seconds } from '../kit/option-checks.js';
import type { Guard } from '../kit/guard.js';
import { CredentialsFile } from './credentials/credentials-file.js';
import { parseHtpasswd, verifyPassword, type PasswordHash } from './credentials/htpasswd.js';
import { authParam } from './auth-params.js';
import { attributeOption, realmOption } from './options.js';
import { hmac, randomSecret } from '../kit/secure-compare.js';

export interface BasicAuthOptions {
  /** The htpasswd file: bcrypt (`$2y$`, `$2a$`, `$2b$`), `$apr1$`, `{SHA}` entries. Re-read when it changes. */
  readonly file: string;
  /** The protection space named in the challenge. Default `wsgate`. */
  readonly realm?: string;
  /** Accept plain-text passwords in the file (`htpasswd -p`): for tests only. Default false. */
  readonly plain?: boolean;
  /** The request (and connection) attribute that receives the user name. Default `user`. */
  readonly attribute?: string;
  /**
   * Seconds a successful verification is remembered, keyed by a keyed hash of the credentials and the stored
   * hash (so a changed password is never served from it): bcrypt costs tens of ms of CPU per check, and a
   * reconnecting client or a handshake flood with good credentials must not pay it each time. 0 disables.
   * Default 60.
   */
  readonly cacheTtl?: number;
  /** Seconds between checks of the file for changes. Default 1. */
  readonly checkInterval?: number;
}

/** The user name and password from `Authorization: Basic …`, or why there are none. */
export function parseBasicCredentials(header: string | undefined): { user: string; password: string } | { problem: string } {
  if (header === undefined) return { problem: 'no credentials' };
  const m = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(header);
  if (!m) return { problem: 'not Basic credentials' };
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return { problem: 'malformed Basic credentials' };
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Refuses (401 with `WWW-Authenticate: Basic realm="…", charset="UTF-8"`) a request without valid
 * credentials; admits the others with the user name in the `user` attribute. Browsers do not show a login
 * dialog for a WebSocket: they send credentials only if the page's origin was already authenticated.
 * @example const auth = basicAuth({ file: '/etc/wsgate/htpasswd', realm: 'media' });
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` for bad options; `WSGATE_CREDENTIALS_FILE` for an unreadable
 *   file or bad lines in it (each with its line number).
 */
export function basicAuth(options: BasicAuthOptions): Guard {
  const o = knownKeys('basicAuth()', options, ['file', 'realm', 'plain', 'attribute', 'cacheTtl', 'checkInterval']);
  if (typeof o.file !== 'string' || o.file === '') throw invalidOption('basicAuth().file', 'give the htpasswd file, e.g. file: "/etc/wsgate/htpasswd"');
  const realm = realmOption('basicAuth().realm', o.realm);
  const plain = boolean('basicAuth().plain', o.plain, false);
  const attribute = attributeOption('basicAuth().attribute', o.attribute, 'user');
  const cacheTtl = seconds('basicAuth().cacheTtl', o.cacheTtl, 60, 0, 86_400);
  const checkInterval = seconds('basicAuth().checkInterval', o.checkInterval, 1, 0, 3600);
  const users = new CredentialsFile('basicAuth().file', o.file, (text) => parseHtpasswd(text, { plain }), checkInterval * 1000);
  const challenge = { 'WWW-Authenticate': `Basic ${authParam('realm', realm)}, charset="UTF-8"` };
  const cache = new MemoryStore({ maxEntries: 10_000 });
  const cacheKey = randomSecret();

  const verified = async (user: string, password: string, stored: PasswordHash): Promise<boolean> => {
    if (cacheTtl === 0) return verifyPassword(stored, password);
    const key = hmac(cacheKey, `${user}\0${password}\0${stored.hash}`).toString('base64');
    if ((await cache.get(key)) !== undefined) return true;
    const ok = await verifyPassword(stored, password);
    if (ok) await cache.set(key, '', cacheTtl);
    return ok;
  };

  return {
    name: 'basic',
    async check(req) {
      const credentials = parseBasicCredentials(req.header('authorization'));
      if ('problem' in credentials) {
        req.refuse(401, 'basic', credentials.problem, challenge);
        return false;
      }
      const stored = (await users.current(req.log)).get(credentials.user);
      // One answer for an unknown user and a wrong password: the reply must not confirm user names.
      if (!stored || !(await verified(credentials.user, credentials.password, stored))) {
        req.log.debug({ user: credentials.user, known: stored !== undefined }, 'basic: credentials rejected');
        req.refuse(401, 'basic', 'invalid user name or password', challenge);
        return false;
      }
      req.set(attribute, credentials.user);
      return true;
    },
    async close() {
      await cache.close();
    },
  };
}
