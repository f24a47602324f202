/**
 * Redis URLs as the config and `RedisStore` take them: checked without loading the Redis client (config
 * validation runs at every start and reload), and shown without their password.
 */

/** Why `url` is not a Redis URL (`must be …`), or undefined when it is one. */
export function redisUrlProblem(url: unknown): string | undefined {
  const expected = 'must be a Redis URL such as redis://127.0.0.1:6379, redis://:PASSWORD@HOST:6379/0 or rediss://HOST:6380 (TLS)';
  if (typeof url !== 'string') return expected;
  // host:port, the usual slip: the URL parser would take the host for a scheme.
  if (!url.includes('://')) return `${expected}: put redis:// (or rediss:// for TLS) before the host`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${expected}, got a string that is not a URL`;
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return `${expected}, got the scheme "${parsed.protocol}"`;
  if (parsed.hostname === '') return `${expected}: give a host`;
  if (parsed.pathname !== '' && parsed.pathname !== '/' && !/^\/\d+$/.test(parsed.pathname)) {
    return `${expected}: the path is a database number, got "${parsed.pathname}"`;
  }
  return undefined;
}

/** The URL with its password replaced by `***`, for logs and errors. */
export function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString().replace(/\/$/, '');
}
