// Turns a syntax tree into one plain JS function, so filtering a record costs about what a hand-written arrow does.
//
// Safety: user text reaches the generated source only through JSON.stringify (field names, string
// literals) or as finite numbers; regexes and long lists are passed in as closure constants.
import type { CompareNode, CompareOp, ExprNode, FieldNode, LiteralValue } from './ast.ts';
import { decimal, lessOrEqual, lessThan, looseEquals, membership, ownField } from './runtime.ts';

/** The helpers generated code may call, bound to local names in the factory. */
const runtime = { decimal, looseEquals, lessThan, lessOrEqual, ownField };

type Factory = (rt: typeof runtime, constants: readonly unknown[]) => (record: unknown) => boolean;

interface Context {
  readonly constants: unknown[];
  temps: number;
}

/** Lists longer than this are looked up in a Set rather than compared one by one. */
const inlineListMax = 8;

const flipped: Record<CompareOp, CompareOp> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** JS source of the test function's body expression, plus what it closes over. For tests and debugging. */
export function generateSource(ast: ExprNode): { source: string; constants: readonly unknown[] } {
  const ctx: Context = { constants: [], temps: 0 };
  const body = condition(ast, ctx);
  const temps = Array.from({ length: ctx.temps }, (_, i) => `t${i}`);
  const source = [
    '"use strict";',
    'const { decimal: $decimal, looseEquals: $eq, lessThan: $lt, lessOrEqual: $le, ownField: $own } = $rt;',
    ...ctx.constants.map((_, i) => `const c${i} = $c[${i}];`),
    `return function exprTest(r) {${temps.length > 0 ? ` let ${temps.join(', ')};` : ''} return ${body}; };`,
  ].join('\n');
  return { source, constants: ctx.constants };
}

/** Compiles a syntax tree into a predicate. */
export function generate(ast: ExprNode): (record: unknown) => boolean {
  const { source, constants } = generateSource(ast);
  // The source is built only from fixed code, JSON.stringify'd text and finite numbers (see the header).
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function('$rt', '$c', source) as Factory;
  return factory(runtime, constants);
}

// An expression that is a boolean: the node in a boolean position (a bare field is tested for truthiness).
function condition(node: ExprNode, ctx: Context): string {
  switch (node.kind) {
    case 'field': return `!!${access(node)}`;
    case 'literal': return node.value ? 'true' : 'false';
    case 'not': return `!${condition(node.operand, ctx)}`;
    case 'and': return `(${node.operands.map((n) => condition(n, ctx)).join(' && ')})`;
    case 'or': return `(${node.operands.map((n) => condition(n, ctx)).join(' || ')})`;
    case 'compare': return compare(node, ctx);
    case 'match': { // a string is searched, a number as its decimal text, anything else does not match
      const re = constant(ctx, node.regex);
      const t = temp(ctx);
      const code = `(${t} = ${value(node.left, ctx)}, typeof ${t} === "string" ? ${re}.test(${t}) : typeof ${t} === "number" && ${re}.test("" + ${t}))`;
      return node.negate ? `!${code}` : code;
    }
    case 'in': { // a short list is a chain of ==, as one would write it; a long one a Set lookup
      let code: string;
      if (node.values.length > inlineListMax) code = `${constant(ctx, membership(node.values))}(${value(node.left, ctx)})`;
      else if (node.values.length === 0) code = 'false';
      else {
        const t = temp(ctx);
        code = `(${t} = ${value(node.left, ctx)}, ${node.values.map((lit) => equals(t, lit)).join(' || ')})`;
      }
      return node.negate ? `!${code}` : code;
    }
  }
}

// An expression for the node's value, as a comparison operand.
function value(node: ExprNode, ctx: Context): string {
  if (node.kind === 'field') return access(node);
  if (node.kind === 'literal') return literal(node.value);
  return condition(node, ctx);
}

function compare(node: CompareNode, ctx: Context): string {
  let { op, left, right } = node;
  if (left.kind === 'literal' && right.kind !== 'literal') [op, left, right] = [flipped[op], right, left];
  if (right.kind !== 'literal') return generic(op, value(left, ctx), value(right, ctx));
  if (left.kind === 'literal') return String(evaluate(op, left.value, right.value));
  const lit = right.value;
  const t = temp(ctx);
  const v = value(left, ctx);
  if (op === '==') return `(${t} = ${v}, ${equals(t, lit)})`;
  if (op === '!=') return `!(${t} = ${v}, ${equals(t, lit)})`;
  if (typeof lit === 'number') {
    return `(${t} = ${v}, typeof ${t} === "number" ? ${t} ${op} ${literal(lit)} : typeof ${t} === "string" && $decimal(${t}) ${op} ${literal(lit)})`;
  }
  if (typeof lit !== 'string') return 'false';
  const n = decimal(lit);
  const asNumber = Number.isNaN(n) ? 'false' : `typeof ${t} === "number" && ${t} ${op} ${literal(n)}`;
  return `(${t} = ${v}, typeof ${t} === "string" ? ${t} ${op} ${literal(lit)} : ${asNumber})`;
}

// `t == lit` for a value already in temp t (see looseEquals).
function equals(t: string, lit: LiteralValue): string {
  if (typeof lit === 'number') return `(${t} === ${literal(lit)} || typeof ${t} === "string" && $decimal(${t}) === ${literal(lit)})`;
  const n = typeof lit === 'string' ? decimal(lit) : NaN;
  if (Number.isNaN(n)) return `${t} === ${literal(lit)}`;
  return `(${t} === ${literal(lit)} || ${t} === ${literal(n)})`;
}

function generic(op: CompareOp, a: string, b: string): string {
  switch (op) {
    case '==': return `$eq(${a}, ${b})`;
    case '!=': return `!$eq(${a}, ${b})`;
    case '<': return `$lt(${a}, ${b})`;
    case '<=': return `$le(${a}, ${b})`;
    case '>': return `$lt(${b}, ${a})`;
    case '>=': return `$le(${b}, ${a})`;
  }
}

/** The rules of the runtime helpers, for two constants. */
function evaluate(op: CompareOp, a: LiteralValue, b: LiteralValue): boolean {
  switch (op) {
    case '==': return looseEquals(a, b);
    case '!=': return !looseEquals(a, b);
    case '<': return lessThan(a, b);
    case '<=': return lessOrEqual(a, b);
    case '>': return lessThan(b, a);
    case '>=': return lessOrEqual(b, a);
  }
}

// r?.["labels"]?.["unit"]; names every object inherits (constructor, __proto__...) read own properties only.
function access(node: FieldNode): string {
  let code = 'r';
  for (const key of node.segments) {
    code = key in Object.prototype ? `$own(${code}, ${JSON.stringify(key)})` : `${code}?.[${JSON.stringify(key)}]`;
  }
  return code;
}

function literal(v: LiteralValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'number') return String(v); // true, false, null
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '(0 / 0)' : v > 0 ? '(1 / 0)' : '(-1 / 0)';
  return v < 0 || Object.is(v, -0) ? `(${String(v)})` : String(v);
}

function constant(ctx: Context, v: unknown): string {
  ctx.constants.push(v);
  return `c${ctx.constants.length - 1}`;
}

function temp(ctx: Context): string {
  return `t${ctx.temps++}`;
}
