/** Options the auth modules share, checked the way every route module checks its options. */
import { invalidOption } from '../kit/option-checks.js';

/** A realm: printable text (it is sent quoted in challenges). */
export function realmOption(where: string, value: unknown, fallback = 'wsgate'): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '' || /[^\x20-\x7e]/.test(value)) {
    throw invalidOption(where, `expected printable ASCII text such as "example.com", got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The name of the request (and connection) attribute a module records what it learnt in. */
export function attributeOption(where: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') throw invalidOption(where, `expected a non-empty attribute name, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * A secret for HMACs: a string or Buffer of at least 32 bytes (shorter ones can be guessed offline from a
 * single signed value). `undefined` when absent; the caller decides between a random one and an error.
 */
export function secretOption(where: string, value: unknown): Buffer | undefined {
  if (value === undefined) return undefined;
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.isBuffer(value) ? value : undefined;
  if (!bytes || bytes.length < 32) {
    throw invalidOption(where, 'expected a secret of at least 32 bytes, e.g. the output of `openssl rand -base64 48`');
  }
  return bytes;
}
