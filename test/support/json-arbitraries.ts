/**
 * Arbitraries shared by the tests of the byte writers (src/api/json-bytes.ts and its users):
 * texts that JSON escapes or that UTF-8 writes in several bytes, and flavors holding them.
 */
import fc from 'fast-check';
import type { Flavor } from '../../src/domain/types.js';

/** Texts with escapes, control characters, line separators, multi-byte and lone surrogates. */
export const ODD_STRINGS = [
  '',
  'a"b\\c',
  'line\nbreak\ttab\r',
  '\u0000\u0001\u001f\u007f',
  '\u2028\u2029',
  'é ü ß 中文',
  '😀 🇫🇷',
  '\ud800',
  'x\udc00y',
  '</script>',
];

export const anyString = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom(...ODD_STRINGS), fc.uuid());

const dateArb = fc.option(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }), { nil: null });

/** A flavor of any content; `slots` may go past 32 bits where a test asks. */
export function flavorArb(id: fc.Arbitrary<string>, slots: fc.Arbitrary<number> = fc.nat()): fc.Arbitrary<Flavor> {
  return fc.record({
    id,
    name: anyString,
    description: fc.option(anyString, { nil: null }),
    vcpu: fc.nat(),
    memory_mb: fc.nat(),
    disk_gb: fc.nat(),
    ephemeral_gb: fc.nat(),
    active: fc.boolean(),
    properties: fc.option(anyString, { nil: null }),
    max_length_hours: fc.nat(),
    slots,
    is_public: fc.boolean(),
    extra_specs: fc.option(fc.dictionary(anyString, fc.jsonValue({ maxDepth: 2 })), { nil: null }),
    start: dateArb,
    end: dateArb,
    category: fc.option(anyString, { nil: null }),
    availability_zone: fc.option(anyString, { nil: null }),
  });
}
