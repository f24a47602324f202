/**
 * Why an upstream could not be used, as the client's answer says it (502 or 504 with a reason) and as the log
 * line says it (the upstream and the cause). One place classifies node's errors, for every kind of relay.
 */

/** The connection was not established within the connect timeout. */
export class ConnectTimeoutError extends Error {
  override readonly name = 'ConnectTimeoutError';
  readonly code = 'ETIMEDOUT_CONNECT';
  constructor(ms: number) {
    super(`connect timed out after ${ms / 1000} s`);
  }
}

/** The upstream stayed silent longer than the idle timeout. */
export class IdleTimeoutError extends Error {
  override readonly name = 'IdleTimeoutError';
  readonly code = 'ETIMEDOUT_IDLE';
  constructor(ms: number) {
    super(`no data for ${ms / 1000} s`);
  }
}

/** The upstream answered something that is not HTTP a proxy may relay (a bad 101, most of all). */
export class BadUpstreamAnswerError extends Error {
  override readonly name = 'BadUpstreamAnswerError';
  readonly code = 'EBADANSWER';
}

export interface UpstreamFailure {
  /** 502, or 504 for timeouts. */
  readonly status: 502 | 504;
  /** The client's plain-text body: what went wrong, without internals. */
  readonly reason: string;
  /** Whether the next node may be tried (the failure happened while connecting). */
  readonly connectFailure: boolean;
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|EPROTO$|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_OSSL_|HOSTNAME_MISMATCH)/;

/** Classifies an error met on the way to (or from) an upstream. */
export function classifyFailure(err: unknown, connected: boolean): UpstreamFailure {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (err instanceof ConnectTimeoutError) return { status: 504, reason: 'upstream connect timed out', connectFailure: true };
  if (err instanceof IdleTimeoutError) return { status: 504, reason: 'upstream timed out', connectFailure: false };
  if (err instanceof BadUpstreamAnswerError) return { status: 502, reason: `upstream sent an invalid answer: ${err.message}`, connectFailure: false };
  if (TLS_CODES.test(code)) return { status: 502, reason: `TLS handshake with the upstream failed (${code})`, connectFailure: true };
  switch (code) {
    case 'ECONNREFUSED':
      return { status: 502, reason: 'upstream refused the connection', connectFailure: true };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
    case 'EADDRNOTAVAIL':
      return { status: 502, reason: `upstream unreachable (${code})`, connectFailure: true };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return { status: 502, reason: `upstream host name did not resolve (${code})`, connectFailure: true };
    case 'ENOENT':
    case 'EACCES':
      return { status: 502, reason: `upstream unix socket unusable (${code})`, connectFailure: true };
    case 'ETIMEDOUT':
      return { status: 504, reason: 'upstream timed out', connectFailure: !connected };
    case 'ECONNRESET':
    case 'EPIPE':
      return { status: 502, reason: 'upstream closed the connection before answering', connectFailure: !connected };
    default:
      return { status: 502, reason: connected ? 'upstream closed the connection before answering' : 'upstream connection failed', connectFailure: !connected };
  }
}
