/** Authentication route modules: each a factory returning a `Guard` (see ../kit/guard.ts). */
export { basicAuth, parseBasicCredentials, type BasicAuthOptions } from './basic.js';
export { digestAuth, type DigestAlgorithm, type DigestAuthOptions, type DigestCredentialsOptions, type DigestSecret } from './digest.js';
export { cookieToken, type CookieTokenGuard, type CookieTokenOptions } from './cookie-token.js';
export { directoryTokens, type DirectoryTokensOptions } from './tokens/directory-tokens.js';
export { memoryTokens, type IssuingTokenStore, type MemoryTokensOptions } from './tokens/memory-tokens.js';
export { signedTokens, type SigningTokenStore, type SignedTokensOptions } from './tokens/signed-tokens.js';
export { OPAQUE_TOKEN, type TokenInfo, type TokenStore } from './tokens/token-store.js';
export { authHook, describeSession, type AuthHookOptions, type SessionDescription } from './auth-hook.js';
export { parseHtpasswd, verifyPassword, type HashKind, type PasswordHash } from './credentials/htpasswd.js';
export { parseHtdigest, type Ha1s } from './credentials/htdigest.js';
export { authParam, parseAuthParams, type AuthParams } from './auth-params.js';
// The parts of digestAuth() that SIP digest (@wsgate/sip sipDigest) shares: one reading of the response,
// one check of it, one credentials lookup over the same htdigest files, one kind of self-verifying nonce.
export {
  algorithmsOption as digestAlgorithmsOption,
  credentialsOption as digestCredentials,
  readResponse as readDigestResponse,
  responseMatches as digestResponseMatches,
  type DigestLookup,
  type DigestResponse,
} from './digest.js';
export { NonceSigner, type NonceState } from './digest-nonce.js';
export { realmOption, secretOption } from './options.js';
