// What compiled expressions call at run time: the comparison rules (numeric strings, ordering) in one place.

/**
 * The number a plain decimal string spells ("42", "-1.5", "1e3", ".5"), or NaN for anything else
 * ("", " 42", "0x10", "Infinity", "1_000"). Log fields are often strings; this is how they meet numbers.
 */
export function decimal(s: string): number {
  // Number() does the parsing (fast, and cached by V8 for short integer strings); it also accepts
  // surrounding whitespace, "", "Infinity" and 0x/0b/0o, which the checks below turn away.
  const v = +s;
  if (v !== v) return NaN;
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(s.length - 1);
  if (!((first >= 48 && first <= 57) || first === 43 || first === 45 || first === 46)) return NaN; // digit + - .
  if (!((last >= 48 && last <= 57) || last === 46)) return NaN; // digit .
  const radix = s.charCodeAt(1) | 32;
  return radix === 120 || radix === 98 || radix === 111 ? NaN : v; // x b o
}

/**
 * `a == b`: strict equality, except a number and a decimal string compare as numbers, and a
 * missing field (undefined) equals nothing, not even another missing field.
 */
export function looseEquals(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false;
  if (typeof a === 'number' && typeof b === 'string') return a === decimal(b);
  if (typeof a === 'string' && typeof b === 'number') return decimal(a) === b;
  return a === b;
}

/** `a < b`: numbers numerically, strings lexically (UTF-16 order), a number and a decimal string as numbers; else false. */
export function lessThan(a: unknown, b: unknown): boolean {
  if (typeof a === 'number') return typeof b === 'number' ? a < b : typeof b === 'string' && a < decimal(b);
  if (typeof a === 'string') return typeof b === 'string' ? a < b : typeof b === 'number' && decimal(a) < b;
  return false;
}

/** `a <= b`, by the same rules as lessThan. */
export function lessOrEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'number') return typeof b === 'number' ? a <= b : typeof b === 'string' && a <= decimal(b);
  if (typeof a === 'string') return typeof b === 'string' ? a <= b : typeof b === 'number' && decimal(a) <= b;
  return false;
}

/**
 * Reads an own property only: used for keys that every object inherits ("constructor", "toString"),
 * so a record without them reads undefined rather than Object.prototype's.
 */
export function ownField(o: unknown, key: string): unknown {
  return o !== null && o !== undefined && Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined;
}

/** `a in [..]` for a fixed list: the same answer as looseEquals against each value, in Set time. */
export function membership(values: readonly unknown[]): (a: unknown) => boolean {
  const exact = new Set(values);
  const numbers = new Set<number>(); // number literals, matched by decimal strings
  const numeric = new Set<number>(); // number literals and decimal strings, matched by numbers
  for (const v of values) {
    if (typeof v === 'number') { numbers.add(v); numeric.add(v); }
    if (typeof v === 'string' && !Number.isNaN(decimal(v))) numeric.add(decimal(v));
  }
  return (a) => {
    if (typeof a === 'number') return numeric.has(a);
    if (typeof a === 'string') return exact.has(a) || (numbers.size > 0 && numbers.has(decimal(a)));
    return exact.has(a);
  };
}
