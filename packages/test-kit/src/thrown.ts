import { expect } from 'vitest';

/**
 * The error `run` throws, checked to be a `type` (an expectation that fails the test otherwise); a `run` that
 * returns fails the test with "did not throw". For tests that look at more of an error than `toThrow` does.
 */
export function thrown<E>(run: () => unknown, type: abstract new (...args: never[]) => E): E {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error('did not throw');
}
