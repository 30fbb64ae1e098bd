/**
 * SQLite's statements make string parameters well-formed (src/db/connect.ts, `wellFormed`): a
 * lone surrogate becomes U+FFFD, as mysql2 and pg encode it; anything else passes untouched.
 */
import { describe, expect, it } from 'vitest';
import { wellFormed } from '../../src/db/connect.js';

describe('wellFormed', () => {
  it('hands back the same parameters when every string is well-formed', () => {
    const params = ['plain', 'emoji \ud83d\ude00', 42, null, Buffer.from('x'), 7n];
    expect(wellFormed(params)).toBe(params);
  });

  it('replaces each lone surrogate, high or low, in every string, and leaves the rest', () => {
    const params = ['a\ud800b', 'ok \ud83d\ude00', '\udc00\udc00', 1, null];
    expect(wellFormed(params)).toEqual(['a\ufffdb', 'ok \ud83d\ude00', '\ufffd\ufffd', 1, null]);
    expect(params[0]).toBe('a\ud800b'); // the caller's array is not changed
  });
});
