/**
 * oslo.policy check strings: parsing and evaluation (docs/interop.md#policy-check-strings).
 *
 * A check string is parsed once into a {@link Check} tree; {@link evaluate} runs on every
 * request. Semantics follow oslo.policy 4.0, including its Python-isms: every comparison is
 * between strings as Python's `str()` renders the values (`True`, `None`, `1`).
 * Written by hand: no npm package implements the oslo.policy language.
 */

/** A `%(key)s` template: a constant string, or pieces to join; `null` when malformed. */
export type Template = string | ReadonlyArray<string | { readonly key: string }> | null;

export type Check =
  | { readonly type: 'true' }
  | { readonly type: 'false' }
  | { readonly type: 'not'; readonly check: Check }
  | { readonly type: 'and'; readonly checks: readonly Check[] }
  | { readonly type: 'or'; readonly checks: readonly Check[] }
  /** `rule:<name>`: another rule of the enforcer. */
  | { readonly type: 'rule'; readonly name: string }
  /** `role:<match>`; `lowered` is the lower-cased match when it has no substitution. */
  | { readonly type: 'role'; readonly match: Template; readonly lowered: string | null }
  /**
   * `<kind>:<match>`: `literal` is the Python `str()` of the kind when it is a literal
   * (`'p1'`, `True`, `1`), otherwise `path` is the dotted path into the credentials.
   */
  | {
      readonly type: 'generic';
      readonly match: Template;
      readonly literal: string | null;
      readonly path: readonly string[];
    };

/** Where `rule:<name>` finds other rules (a `Map<string, Check>` will do). */
export interface RuleLookup {
  get(name: string): Check | undefined;
}

/** Receives `Failed to understand rule …` and similar messages while parsing. */
export type ParseErrorSink = (message: string) => void;

export const TRUE_CHECK: Check = Object.freeze({ type: 'true' });
export const FALSE_CHECK: Check = Object.freeze({ type: 'false' });

/** Deepest chain of `rule:` references followed before giving up (rule cycles deny). */
const MAX_RULE_DEPTH = 64;

// ---------------------------------------------------------------------------------------
// Parsing

type Token = { readonly t: '(' | ')' | 'and' | 'or' | 'not' | 'string' } | { readonly t: 'check'; readonly check: Check };

const OPEN: Token = { t: '(' };
const CLOSE: Token = { t: ')' };

/**
 * Parses a check string. Empty text is `@`. Text that does not parse logs
 * `Failed to understand rule <text>` to `onError` and becomes `!` (deny).
 */
export function parseCheck(text: string, onError?: ParseErrorSink): Check {
  if (text === '') return TRUE_CHECK;
  const tokens = tokenize(text, onError);
  const parser = new Parser(tokens);
  const check = parser.parse();
  if (check === null) {
    onError?.(`Failed to understand rule ${text}`);
    return FALSE_CHECK;
  }
  return check;
}

/**
 * Parses a rule as it appears in a policy file: a check string, or the old list-of-lists
 * syntax (outer list joined by `or`, inner lists by `and`; `[]` allows everyone).
 * `null` (a YAML key without a value) allows everyone, as in oslo.policy.
 */
export function parseRule(value: unknown, onError?: ParseErrorSink): Check {
  if (typeof value === 'string') return parseCheck(value, onError);
  if (value === null || value === undefined) return TRUE_CHECK;
  if (!Array.isArray(value)) throw new TypeError('a rule must be a check string or a list');
  if (value.length === 0) return TRUE_CHECK;
  const alternatives: Check[] = [];
  for (const inner of value as unknown[]) {
    const conjuncts = typeof inner === 'string' ? [inner] : inner;
    if (!Array.isArray(conjuncts)) throw new TypeError('list rules must hold strings or lists of strings');
    if (conjuncts.length === 0) continue;
    const checks = conjuncts.map((c: unknown) => {
      if (typeof c !== 'string') throw new TypeError('list rules must hold strings or lists of strings');
      return parseSingle(c, onError);
    });
    alternatives.push(checks.length === 1 ? checks[0]! : { type: 'and', checks });
  }
  if (alternatives.length === 0) return FALSE_CHECK;
  return alternatives.length === 1 ? alternatives[0]! : { type: 'or', checks: alternatives };
}

/** Splits on whitespace; parentheses are peeled off the ends of each word. */
function tokenize(text: string, onError?: ParseErrorSink): Token[] {
  const tokens: Token[] = [];
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    let start = 0;
    while (start < word.length && word[start] === '(') {
      tokens.push(OPEN);
      start++;
    }
    if (start === word.length) continue;
    const tok = word.slice(start);
    let end = tok.length;
    while (end > 0 && tok[end - 1] === ')') end--;
    const clean = tok.slice(0, end);
    const lowered = clean.toLowerCase();
    if (lowered === 'and' || lowered === 'or' || lowered === 'not') {
      tokens.push({ t: lowered });
    } else if (clean !== '') {
      const first = tok[0];
      // oslo.policy treats a quoted word as a string token, which no rule accepts.
      if (tok.length >= 2 && (first === '"' || first === "'") && tok[tok.length - 1] === first) {
        tokens.push({ t: 'string' });
      } else {
        tokens.push({ t: 'check', check: parseSingle(clean, onError) });
      }
    }
    for (let i = end; i < tok.length; i++) tokens.push(CLOSE);
  }
  return tokens;
}

/**
 * Recursive descent over: or := and ('or' and)* ; and := unary ('and' unary)* ;
 * unary := 'not' unary | '(' or ')' | check. Returns null on any syntax error.
 */
class Parser {
  private pos = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  parse(): Check | null {
    const check = this.or();
    return check !== null && this.pos === this.tokens.length ? check : null;
  }

  private peek(): Token['t'] | undefined {
    return this.tokens[this.pos]?.t;
  }

  private or(): Check | null {
    return this.chain('or', () => this.and());
  }

  private and(): Check | null {
    return this.chain('and', () => this.unary());
  }

  private chain(op: 'and' | 'or', operand: () => Check | null): Check | null {
    const first = operand();
    if (first === null) return null;
    if (this.peek() !== op) return first;
    const checks = [first];
    while (this.peek() === op) {
      this.pos++;
      const next = operand();
      if (next === null) return null;
      checks.push(next);
    }
    return { type: op, checks };
  }

  private unary(): Check | null {
    const tok = this.tokens[this.pos];
    if (tok === undefined) return null;
    this.pos++;
    if (tok.t === 'check') return tok.check;
    if (tok.t === 'not') {
      const inner = this.unary();
      return inner === null ? null : { type: 'not', check: inner };
    }
    if (tok.t === '(') {
      const inner = this.or();
      if (inner === null || this.peek() !== ')') return null;
      this.pos++;
      return inner;
    }
    return null;
  }
}

/** One `kind:match` word (or `@`, `!`). A word without `:` is logged and denies. */
function parseSingle(word: string, onError?: ParseErrorSink): Check {
  if (word === '!') return FALSE_CHECK;
  if (word === '@') return TRUE_CHECK;
  const colon = word.indexOf(':');
  if (colon < 0) {
    onError?.(`Failed to understand rule ${word}`);
    return FALSE_CHECK;
  }
  const kind = word.slice(0, colon);
  const matchText = word.slice(colon + 1);
  if (kind === 'rule') return { type: 'rule', name: matchText };
  if (kind === 'http' || kind === 'https') {
    onError?.(`Failed to understand rule ${word}: remote (${kind}:) checks are not supported`);
    return FALSE_CHECK;
  }
  const match = parseTemplate(matchText);
  if (match === null) onError?.(`Failed to understand rule ${word}: bad %(key)s substitution`);
  if (kind === 'role') {
    return { type: 'role', match, lowered: typeof match === 'string' ? match.toLowerCase() : null };
  }
  const literal = pythonLiteral(kind);
  return { type: 'generic', match, literal, path: literal === null ? kind.split('.') : [] };
}

/** Python `%`-formatting with a mapping, limited to `%(key)s` and `%%`. */
function parseTemplate(text: string): Template {
  if (!text.includes('%')) return text;
  const parts: Array<string | { key: string }> = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '%') {
      literal += c;
      i++;
      continue;
    }
    if (text[i + 1] === '%') {
      literal += '%';
      i += 2;
      continue;
    }
    if (text[i + 1] !== '(') return null;
    // Python matches nested parentheses inside the key.
    let depth = 1;
    let j = i + 2;
    while (j < text.length && depth > 0) {
      if (text[j] === '(') depth++;
      else if (text[j] === ')') depth--;
      j++;
    }
    if (depth !== 0 || text[j] !== 's') return null;
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push({ key: text.slice(i + 2, j - 1) });
    i = j + 1;
  }
  if (literal !== '') parts.push(literal);
  return parts.length === 1 && typeof parts[0] === 'string' ? parts[0] : parts;
}

/**
 * `str(ast.literal_eval(kind))` for the literals a check's left side can be: quoted strings,
 * True/False/None, integers and floats. Anything else is a credentials path (null).
 */
function pythonLiteral(kind: string): string | null {
  if (kind === 'True' || kind === 'False' || kind === 'None') return kind;
  const quoted = /^(?:'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)")$/s.exec(kind);
  if (quoted) return unescapePython(quoted[1] ?? quoted[2] ?? '');
  const int = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[1-9][0-9]*|0+)$/.exec(kind);
  if (int) {
    const value = BigInt(/^0+$/.test(int[2]!) ? '0' : int[2]!);
    return (int[1] === '-' ? -value : value).toString();
  }
  if (/^[+-]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][+-]?\d+)?$/.test(kind)) {
    return pythonFloat(Number(kind));
  }
  return null;
}

const PY_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"' };

function unescapePython(body: string): string {
  return body.replace(/\\(.)/gs, (whole, c: string) => PY_ESCAPES[c] ?? whole);
}

// ---------------------------------------------------------------------------------------
// Python str() of JSON-like values

/** Python's `str(float)`: repr with `.0` on integral values, exponent below 1e-4 or from 1e16. */
function pythonFloat(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [mantissa, exp] = n.toExponential().split('e') as [string, string];
    const sign = exp.startsWith('-') ? '-' : '+';
    return `${mantissa}e${sign}${exp.replace(/^[+-]/, '').padStart(2, '0')}`;
  }
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

/** Python `str()` of a value decoded from JSON (integral numbers are taken as ints). */
export function pythonStr(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? 'True' : 'False';
    case 'undefined':
      return 'None';
    case 'bigint':
      return value.toString();
    case 'number':
      if (Number.isInteger(value)) return Math.abs(value) < 1e21 ? String(value) : BigInt(value).toString();
      return pythonFloat(value);
    default:
      if (value === null) return 'None';
      if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
      if (typeof value === 'object') {
        const items = Object.entries(value as Record<string, unknown>);
        return `{${items.map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
      }
      return String(value);
  }
}

function pythonRepr(value: unknown): string {
  if (typeof value !== 'string') return pythonStr(value);
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  const body = value
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(quote === "'" ? /'/g : /"/g, `\\${quote}`);
  return `${quote}${body}${quote}`;
}

// ---------------------------------------------------------------------------------------
// Evaluation

const hasOwn = Object.prototype.hasOwnProperty;

/** Formats a template with the target; null when a key is missing (the check is then false). */
function format(template: Template, target: Record<string, unknown>): string | null {
  if (typeof template === 'string' || template === null) return template;
  let out = '';
  for (const part of template) {
    if (typeof part === 'string') {
      out += part;
    } else {
      const value = hasOwn.call(target, part.key) ? target[part.key] : undefined;
      if (value === undefined) return null;
      out += pythonStr(value);
    }
  }
  return out;
}

/** Walks `path` from `value`; list values match if any element matches. */
function findInCreds(value: unknown, path: readonly string[], index: number, match: string): boolean {
  if (index === path.length) return pythonStr(value) === match;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const key = path[index]!;
  if (!hasOwn.call(value, key)) return false;
  const next = (value as Record<string, unknown>)[key];
  if (Array.isArray(next)) return next.some((v) => findInCreds(v, path, index + 1, match));
  return findInCreds(next, path, index + 1, match);
}

/**
 * Evaluates a parsed check against a target (the object acted on) and the caller's
 * credentials. `rule:` references are resolved through `rules`; unknown rules deny.
 */
export function evaluate(
  check: Check,
  target: Record<string, unknown>,
  creds: Record<string, unknown>,
  rules: RuleLookup,
  depth = 0,
): boolean {
  switch (check.type) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'not':
      return !evaluate(check.check, target, creds, rules, depth);
    case 'and':
      for (const c of check.checks) if (!evaluate(c, target, creds, rules, depth)) return false;
      return true;
    case 'or':
      for (const c of check.checks) if (evaluate(c, target, creds, rules, depth)) return true;
      return false;
    case 'rule': {
      const rule = rules.get(check.name);
      return rule !== undefined && depth < MAX_RULE_DEPTH && evaluate(rule, target, creds, rules, depth + 1);
    }
    case 'role': {
      const wanted = check.lowered ?? format(check.match, target)?.toLowerCase();
      const roles = creds.roles;
      if (wanted === undefined || !Array.isArray(roles)) return false;
      return roles.some((r) => pythonStr(r).toLowerCase() === wanted);
    }
    case 'generic': {
      const match = format(check.match, target);
      if (match === null) return false;
      if (check.literal !== null) return check.literal === match;
      return findInCreds(creds, check.path, 0, match);
    }
  }
}

/** Names referenced by `rule:` anywhere in a check. */
export function referencedRules(check: Check, into: string[] = []): string[] {
  switch (check.type) {
    case 'rule':
      into.push(check.name);
      break;
    case 'not':
      referencedRules(check.check, into);
      break;
    case 'and':
    case 'or':
      for (const c of check.checks) referencedRules(c, into);
      break;
    default:
      break;
  }
  return into;
}
