/**
 * Readers for the S2 route scripts' `script.options`, shared by both variants: a wrong value stops the
 * gateway at start with the option's name and what it expects.
 */
import { WsgateError } from '@wsgate/core';

type Options = Readonly<Record<string, unknown>>;

const invalid = (name: string, expected: string) => new WsgateError('WSGATE_SCRIPT_INVALID', `script.options.${name}: ${expected}`);

/** A non-empty string; `fallback` when absent (required when there is none). */
export function stringOption(options: Options, name: string, fallback?: string): string {
  const value = options[name] ?? fallback;
  if (typeof value !== 'string' || value === '') throw invalid(name, 'expected a non-empty string');
  return value;
}

/** A whole number of at least `min`; `fallback` when absent. */
export function numberOption(options: Options, name: string, fallback: number, min = 1): number {
  const value = options[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalid(name, `expected a whole number, at least ${min}`);
  return value;
}

/** A URL string, or undefined when absent and not `required`. */
export function urlOption(options: Options, name: string, example: string, required = false): string | undefined {
  const value = options[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || !URL.canParse(value)) throw invalid(name, `expected a URL such as ${example}`);
  return value;
}
