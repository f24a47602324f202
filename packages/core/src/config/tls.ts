/**
 * A listener's `tls` section from its file form to `TlsConfig`: the `true` shorthand, paths resolved against
 * the config's folder, and the `sni` host names checked (the schema only knows they are keys).
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { formatPath, type ConfigIssue } from './issues.js';
import type { CertificateFiles, TlsConfig } from './types.js';

/** The `tls` section as the file gives it, after schema validation. */
export type FileTls = boolean | { cert?: string; key?: string; sni?: Record<string, { cert: string; key: string }> };

/** The resolved section, or undefined for no TLS (`false` or absent). */
export function toTlsConfig(tls: FileTls | undefined, baseDir: string): TlsConfig | undefined {
  if (tls === undefined || tls === false) return undefined;
  if (tls === true) return {};
  const resolve = (pair: { cert: string; key: string }): CertificateFiles => ({ cert: path.resolve(baseDir, pair.cert), key: path.resolve(baseDir, pair.key) });
  const own = tls.cert !== undefined && tls.key !== undefined ? resolve({ cert: tls.cert, key: tls.key }) : {};
  const entries = Object.entries(tls.sni ?? {});
  if (entries.length === 0) return own;
  // Lower case: SNI names are compared without case, and the selector looks them up as given.
  return { ...own, sni: Object.fromEntries(entries.map(([name, pair]) => [name.toLowerCase(), resolve(pair)])) };
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST_OR_WILDCARD = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);

/** Why a `tls.sni` key cannot be matched against a client's SNI, or undefined when it can. */
export function sniNameProblem(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (isIP(lower) !== 0 || isIP(lower.replace(/^\[(.*)\]$/, '$1')) !== 0) {
    return `"${name}" is an IP address: clients send only host names by SNI (RFC 6066), so it would never be chosen; put the certificate for an address in tls.cert and tls.key`;
  }
  if (lower.length > 253 || !HOST_OR_WILDCARD.test(lower)) {
    return `"${name}" is not a host name or *.domain: give a name such as meet.example.com or *.example.com (no port, no trailing dot; an internationalized name in its xn-- form)`;
  }
  return undefined;
}

/** Every `listeners[i].tls.sni` key that is not a host name or `*.domain`, or repeats another but for case. */
export function findSniIssues(data: unknown): ConfigIssue[] {
  if (!isObject(data) || !Array.isArray(data.listeners)) return [];
  const issues: ConfigIssue[] = [];
  data.listeners.forEach((listener: unknown, i) => {
    if (!isObject(listener) || !isObject(listener.tls) || !isObject(listener.tls.sni)) return;
    const seen = new Map<string, string>();
    for (const name of Object.keys(listener.tls.sni)) {
      const at = formatPath(['listeners', i, 'tls', 'sni', name]);
      const problem = sniNameProblem(name);
      const first = seen.get(name.toLowerCase());
      if (problem) issues.push({ path: at, message: problem });
      else if (first !== undefined) issues.push({ path: at, message: `"${name}" is "${first}" again (host names ignore case): keep one of them` });
      else seen.set(name.toLowerCase(), name);
    }
  });
  return issues;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
