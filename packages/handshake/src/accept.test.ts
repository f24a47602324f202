import { describe, expect, it } from 'vitest';
import { acceptKey, keyProblem } from './accept.js';

describe('acceptKey', () => {
  it('gives the RFC 6455 §1.3 sample value', () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
});

describe('keyProblem', () => {
  it('accepts the base64 of 16 bytes', () => {
    expect(keyProblem('dGhlIHNhbXBsZSBub25jZQ==')).toBeUndefined();
    expect(keyProblem(Buffer.alloc(16, 0xff).toString('base64'))).toBeUndefined();
  });
  it('names a wrong length', () => {
    expect(keyProblem('dGhlIHNhbXBsZQ==')).toBe('got 16 characters, expected 24');
    expect(keyProblem('dGhlIHNhbXBsZSBub25jZQ==AAAA')).toBe('got 28 characters, expected 24');
    expect(keyProblem('')).toBe('got 0 characters, expected 24');
  });
  it('names a character outside the alphabet and where it is', () => {
    expect(keyProblem('dGhlIHNhb!BsZSBub25jZQ==')).toBe('invalid character "!" at position 9');
    expect(keyProblem('dGhlIHNhbXBsZSBub25jZ=Q=')).toBe('invalid character "=" at position 21');
    expect(keyProblem('dGhlIHNhbXBsZSBub25jZQ-_')).toBe('invalid padding "-_" at position 22');
  });
  it('refuses 24 characters that decode to 17 or 18 bytes', () => {
    expect(keyProblem(Buffer.alloc(17, 1).toString('base64'))).toBe('decodes to 17 bytes');
    expect(keyProblem(Buffer.alloc(18, 1).toString('base64'))).toBe('decodes to 18 bytes');
  });
  it('refuses bad padding and non-zero padding bits', () => {
    expect(keyProblem('dGhlIHNhbXBsZSBub25jZQ=A')).toBe('invalid padding "=A" at position 22');
    expect(keyProblem('dGhlIHNhbXBsZSBub25jZR==')).toBe('non-zero padding bits');
  });
});
