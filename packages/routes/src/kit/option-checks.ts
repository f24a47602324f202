/** Start-up checks of factory options: every failure names the option and says how to fix it. */
import { WsgateError } from '@wsgate/core';

export function invalidOption(where: string, why: string): WsgateError {
  return new WsgateError('WSGATE_CONFIG_INVALID', `${where}: ${why}`);
}

/** A number of seconds (fractions allowed) within `[min, max]`, or the default when absent. */
export function seconds(where: string, value: unknown, fallback: number, min = 0.001, max = 31_536_000): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidOption(where, `expected seconds from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** An integer within `[min, max]`, or the default when absent. */
export function integer(where: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(where, `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function boolean(where: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(where, `expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

/** One of `choices`, or the default when absent. */
export function oneOf<T extends string>(where: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !choices.includes(value as T)) {
    throw invalidOption(where, `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** Refuses keys the options type does not know: a typo must not silently mean "default". */
export function knownKeys(where: string, value: unknown, keys: readonly string[]): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOption(where, `expected an object, got ${JSON.stringify(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) throw invalidOption(`${where}.${key}`, `unknown option; known ones are ${keys.join(', ')}`);
  }
  return value as Record<string, unknown>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Names that are RFC 9110 tokens (protocols, methods…), lower-cased; an empty list when absent. */
export function tokenList(where: string, value: unknown, example: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidOption(where, `expected an array of names, e.g. ${example}, got ${JSON.stringify(value)}`);
  return value.map((name: unknown, i) => {
    if (typeof name !== 'string' || !TOKEN.test(name)) throw invalidOption(`${where}[${i}]`, `expected a name of letters, digits and !#$%&'*+-.^_\`|~, got ${JSON.stringify(name)}`);
    return name.toLowerCase();
  });
}

/** A header name (RFC 9110 token). */
export function headerName(where: string, name: string): string {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw invalidOption(where, `${JSON.stringify(name)} is not a valid header name`);
  return name;
}
