/**
 * Request-body validation with the historical field messages (marshmallow's
 * wording, docs/api.md#field-messages), which JSON-Schema validators cannot produce: each
 * field gets a list of messages, unknown fields get `Unknown field.`.
 */
import { parseApiDateTime } from '../domain/time.js';

export type FieldType =
  | { kind: 'string'; max: number; nullable?: boolean }
  | { kind: 'int'; min?: number; max?: number }
  | { kind: 'bool'; nullable?: boolean }
  | { kind: 'datetime'; nullable?: boolean }
  | { kind: 'object'; nullable?: boolean }
  | { kind: 'id-list' };

export interface FieldSpec {
  type: FieldType;
  required?: boolean;
}

export type Schema = Record<string, FieldSpec>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: Record<string, string[]> };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Deepest nesting of objects and arrays an object field may hold (docs/operations.md). */
export const MAX_OBJECT_DEPTH = 32;

/**
 * How deeply objects and arrays nest in a JSON value (a scalar is 0, `{}` is 1), counted
 * without recursion and without looking further than `limit + 1` levels.
 */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return deepest;
}

/** Is this a JSON object (not an array, not null)? */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkField(t: FieldType, v: unknown): { value?: unknown; error?: string } {
  if (v === null) {
    if ('nullable' in t && t.nullable) return { value: null };
    return { error: 'Field may not be null.' };
  }
  switch (t.kind) {
    case 'string':
      // NUL cannot be stored in PostgreSQL text (and is never meaningful here).
      if (typeof v !== 'string' || v.includes('\u0000')) return { error: 'Not a valid string.' };
      if (v.length > t.max) return { error: `Longer than maximum length ${t.max}.` };
      return { value: v };
    case 'int': {
      let n: number;
      if (typeof v === 'number') n = v;
      else if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) n = Number(v);
      else return { error: 'Not a valid integer.' };
      if (!Number.isInteger(n)) return { error: 'Not a valid integer.' };
      const min = t.min ?? INT32_MIN;
      const max = t.max ?? INT32_MAX;
      if (n < min || n > max) return { error: `Must be greater than or equal to ${min} and less than or equal to ${max}.` };
      return { value: n };
    }
    case 'bool':
      if (typeof v === 'boolean') return { value: v };
      if (v === 1 || v === 0) return { value: v === 1 };
      if (typeof v === 'string') {
        const s = v.toLowerCase();
        if (['true', '1', 'yes', 'on', 't', 'y'].includes(s)) return { value: true };
        if (['false', '0', 'no', 'off', 'f', 'n'].includes(s)) return { value: false };
      }
      return { error: 'Not a valid boolean.' };
    case 'datetime': {
      if (typeof v !== 'string') return { error: 'Not a valid datetime.' };
      const ms = parseApiDateTime(v);
      if (ms === null) return { error: 'Not a valid datetime.' };
      return { value: ms };
    }
    case 'object': {
      if (!isObject(v)) return { error: 'Not a valid mapping type.' };
      // Depth first (without recursion), so that JSON.stringify never meets a nesting deep
      // enough to exhaust the stack.
      if (nestingDepth(v, MAX_OBJECT_DEPTH) > MAX_OBJECT_DEPTH) return { error: `Nested deeper than ${MAX_OBJECT_DEPTH} levels.` };
      if (JSON.stringify(v).length > 65_535) return { error: 'Longer than maximum length 65535.' };
      return { value: v };
    }
    case 'id-list': {
      if (!Array.isArray(v)) return { error: 'Not a valid list.' };
      if (v.length > 1000) return { error: 'Longer than maximum length 1000.' };
      if (!v.every((x) => typeof x === 'string' && x.length <= 64 && !x.includes('\u0000'))) return { error: 'Not a valid list of ids.' };
      return { value: [...new Set(v as string[])] };
    }
  }
}

/**
 * Validate a JSON body against a schema. `partial` (PATCH) makes every field
 * optional. Unknown fields are errors.
 */
export function validateBody<T>(schema: Schema, body: Record<string, unknown>, partial = false): Parsed<T> {
  // No prototype: a body key "__proto__" is then reported like any unknown field.
  const errors: Record<string, string[]> = Object.create(null);
  const value: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(body)) {
    // Own properties only: a body key like "constructor" or "__proto__" is just an unknown field.
    const spec = Object.hasOwn(schema, name) ? schema[name] : undefined;
    if (!spec) {
      errors[name] = ['Unknown field.'];
      continue;
    }
    const r = checkField(spec.type, v);
    if (r.error) errors[name] = [r.error];
    else value[name] = r.value;
  }
  if (!partial) {
    for (const [name, spec] of Object.entries(schema)) {
      if (spec.required && !(name in body)) errors[name] = ['Missing data for required field.'];
    }
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, value: value as T };
}

/**
 * The JSON Schema (2020-12) of a body this language accepts, for the OpenAPI document
 * (src/api/openapi.ts): the canonical form of each field, with the other forms `checkField`
 * also takes said in its description. `partial` (PATCH): no field is required, at least one given.
 */
export function bodyJsonSchema(schema: Schema, partial = false): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(schema)) properties[name] = fieldJsonSchema(spec.type);
  const required = partial
    ? []
    : Object.entries(schema)
        .filter(([, s]) => s.required)
        .map(([n]) => n);
  return {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    minProperties: 1,
    additionalProperties: false,
  };
}

function fieldJsonSchema(t: FieldType): Record<string, unknown> {
  const orNull = (type: string) => ('nullable' in t && t.nullable ? [type, 'null'] : type);
  switch (t.kind) {
    case 'string':
      return { type: orNull('string'), maxLength: t.max, description: 'No NUL character.' };
    case 'int':
      return { type: 'integer', minimum: t.min ?? INT32_MIN, maximum: t.max ?? INT32_MAX, description: 'A string of digits is taken too.' };
    case 'bool':
      return { type: orNull('boolean'), description: 'Also 1/0 and the strings true/false, 1/0, yes/no, on/off, t/f, y/n (any case).' };
    case 'datetime':
      return {
        type: orNull('string'),
        format: 'date-time',
        description: 'ISO 8601 with an offset (`Z` or `±HH:MM`); seconds are dropped, then the time is taken as UTC.',
      };
    case 'object':
      return {
        type: orNull('object'),
        description: `Any JSON object nested at most ${MAX_OBJECT_DEPTH} levels deep, at most 65535 characters as JSON.`,
      };
    case 'id-list':
      return {
        type: 'array',
        items: { type: 'string', maxLength: 64 },
        maxItems: 1000,
        description: 'Ids; repeated ones count once.',
      };
  }
}
