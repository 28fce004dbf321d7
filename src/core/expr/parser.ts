// Recursive-descent parser for filter expressions: tokens to a syntax tree, with every error pointing at its column.
import { exprError, quote } from './error.ts';
import type { CompareOp, ExprNode, FieldNode, LiteralValue } from './ast.ts';
import { Lexer } from './lexer.ts';
import type { Token } from './lexer.ts';

/** Deepest nesting of parentheses and negations: deeper input is a syntax error, not a stack overflow. */
export const maxDepth = 200;

export interface ParseOptions {
  /** Known field paths ("labels.*" allows any path under labels); others are OPS_ERR_EXPR_FIELD. */
  fields?: readonly string[] | undefined;
}

export interface Parsed {
  readonly ast: ExprNode;
  /** Distinct field paths, in order of first use. */
  readonly fields: readonly string[];
}

const compareOps: ReadonlySet<string> = new Set<CompareOp>(['==', '!=', '<', '<=', '>', '>=']);
const keywords: ReadonlySet<string> = new Set(['true', 'false', 'null', 'and', 'or', 'not', 'in']);

/** ', got "x"' for a message, or nothing at the end of the input. */
const got = (token: Token): string => (token.kind === 'end' ? '' : `, got ${quote(token.text)}`);

/** Parses an expression; throws OpsError OPS_ERR_EXPR_SYNTAX or OPS_ERR_EXPR_FIELD. */
export function parse(source: string, options: ParseOptions = {}): Parsed {
  const lexer = new Lexer(source);
  const fields = new Map<string, FieldNode>();
  const known = options.fields;
  let depth = 0;

  const is = (token: Token, ...texts: string[]): boolean =>
    (token.kind === 'punct' || token.kind === 'name') && texts.includes(token.text);
  const isComparison = (token: Token): boolean =>
    (token.kind === 'punct' && (compareOps.has(token.text) || token.text === '~' || token.text === '!~')) ||
    is(token, 'in', 'not');

  const nest = (token: Token): void => {
    if (++depth > maxDepth) throw lexer.error(token.start, `expression nested too deeply (more than ${maxDepth} levels)`);
  };

  const expectedValue = (token: Token): Error => {
    const prev = lexer.previous;
    if (prev === undefined && token.kind === 'end') return lexer.error(0, 'empty expression', { expected: 'a value' });
    const what = prev === undefined ? 'expected a value' : `expected a value after ${quote(prev.text)}`;
    return lexer.error(token.start, `${what}${got(token)}`, { expected: 'a value' });
  };

  const parseOr = (): ExprNode => logical('or', '||', parseAnd);
  const parseAnd = (): ExprNode => logical('and', '&&', parseComparison);

  function logical(kind: 'and' | 'or', symbol: string, operand: () => ExprNode): ExprNode {
    const operands = [operand()];
    while (is(lexer.peek(), symbol, kind)) {
      lexer.take();
      operands.push(operand());
    }
    return operands.length === 1 ? (operands[0] as ExprNode) : { kind, operands };
  }

  function parseComparison(): ExprNode {
    const first = lexer.peek();
    const left = parseUnary();
    const op = lexer.peek();
    if (!isComparison(op)) return left;
    if (is(first, '!', 'not')) {
      const [neg, sp] = first.text === '!' ? ['!', ''] : ['not', ' '];
      throw lexer.error(first.start, `ambiguous ${quote(first.text)} before ${quote(op.text)}`, {
        note: `write ${neg}${sp}(… ${op.text} …) to negate the comparison, or (${neg}${sp}…) ${op.text} … to compare the negation`,
      });
    }
    lexer.take();
    const node = comparison(left, op);
    const next = lexer.peek();
    if (isComparison(next)) {
      throw lexer.error(next.start, 'comparisons cannot be chained', { expected: '"&&" or "||"', note: 'join them with "&&": a < b && b < c' });
    }
    return node;
  }

  function comparison(left: ExprNode, op: Token): ExprNode {
    if (op.text === '~' || op.text === '!~') {
      const pattern = lexer.take();
      if (pattern.kind !== 'string') {
        throw lexer.error(pattern.start, `expected a string (the regular expression) after ${quote(op.text)}${got(pattern)}`, { expected: 'a string' });
      }
      return { kind: 'match', negate: op.text === '!~', left, regex: regex(pattern) };
    }
    if (op.text === 'not' || op.text === 'in') {
      if (op.text === 'not' && !is(lexer.take(), 'in')) {
        throw lexer.error(lexer.previous?.start ?? op.start, 'expected "in" after "not"', { expected: '"in"' });
      }
      return { kind: 'in', negate: op.text === 'not', left, values: list() };
    }
    const right = parseUnary();
    if (op.text !== '==' && op.text !== '!=') {
      for (const side of [left, right]) {
        const kind = side.kind === 'literal' ? (side.value === null ? 'null' : typeof side.value) : side.kind === 'field' ? 'field' : 'boolean';
        if (kind === 'boolean' || kind === 'null') {
          throw lexer.error(op.start, `${quote(op.text)} compares numbers or strings, not ${kind === 'null' ? 'null' : 'true/false'}`, { expected: 'a number or a string' });
        }
      }
    }
    return { kind: 'compare', op: op.text as CompareOp, left, right };
  }

  function regex(pattern: Token): RegExp {
    try {
      return new RegExp(pattern.value as string, 'u');
    } catch (err) {
      const reason = err instanceof Error ? err.message.slice(err.message.lastIndexOf(': ') + 2) : String(err);
      throw lexer.error(pattern.start, `invalid regular expression (${reason})`, { expected: 'a regular expression' });
    }
  }

  function list(): LiteralValue[] {
    const open = lexer.take();
    if (!is(open, '[')) throw lexer.error(open.start, `expected "[" after "in"${got(open)}`, { expected: '"["' });
    const values: LiteralValue[] = [];
    while (!is(lexer.peek(), ']')) {
      values.push(literal(lexer.take(), ' in the list'));
      const sep = lexer.peek();
      if (is(sep, ',')) lexer.take();
      else if (!is(sep, ']')) throw lexer.error(sep.start, `expected "," or "]" in the list${got(sep)}`, { expected: '"," or "]"' });
    }
    lexer.take();
    return values;
  }

  // A number (optionally negative), string, true, false or null.
  function literal(token: Token, where = ''): LiteralValue {
    if (token.kind === 'number' || token.kind === 'string') return token.value;
    if (is(token, 'true', 'false')) return token.text === 'true';
    if (is(token, 'null')) return null;
    if (is(token, '-')) {
      const n = lexer.take();
      if (n.kind !== 'number') throw lexer.error(n.start, `expected a number after "-"${got(n)}`, { expected: 'a number' });
      return -Number(n.value);
    }
    throw lexer.error(token.start, `expected a literal${where} (a number, string, true, false or null)${got(token)}`, {
      expected: 'a literal',
    });
  }

  function parseUnary(): ExprNode {
    const token = lexer.peek();
    if (is(token, '!', 'not')) {
      nest(lexer.take());
      const node: ExprNode = { kind: 'not', operand: parseUnary() };
      depth--;
      return node;
    }
    return parsePrimary();
  }

  function parsePrimary(): ExprNode {
    const token = lexer.peek();
    if (is(token, '(')) {
      nest(lexer.take());
      const inner = parseOr();
      const close = lexer.take();
      if (!is(close, ')')) {
        const note = `to close the "(" at column ${[...source.slice(0, token.start)].length + 1}`;
        throw lexer.error(close.start, `expected ")"${got(close)}`, { expected: '")"', note });
      }
      depth--;
      return inner;
    }
    if (token.kind === 'name' && !keywords.has(token.text)) return field(lexer.take());
    if (token.kind === 'number' || token.kind === 'string' || is(token, 'true', 'false', 'null', '-')) {
      return { kind: 'literal', value: literal(lexer.take()) };
    }
    throw expectedValue(token);
  }

  function field(token: Token): FieldNode {
    const path = token.text;
    const seen = fields.get(path);
    if (seen !== undefined) return seen;
    if (known !== undefined && !isKnown(path, known)) throw unknownField(source, token.start, path, known);
    const node: FieldNode = { kind: 'field', path, segments: path.split('.') };
    fields.set(path, node);
    return node;
  }

  const ast = parseOr();
  const rest = lexer.peek();
  if (rest.kind !== 'end') {
    if (is(rest, ')')) throw lexer.error(rest.start, 'unmatched ")"');
    throw lexer.error(rest.start, `expected an operator${got(rest)}`, { expected: 'an operator' });
  }
  return { ast, fields: [...fields.keys()] };
}

/** Whether a field path is allowed by a list of known paths ("labels.*" allows labels and anything under it). */
export function isKnown(path: string, known: readonly string[]): boolean {
  return known.some((k) => k === path || (k.endsWith('.*') && (path === k.slice(0, -2) || path.startsWith(k.slice(0, -1)))));
}

function unknownField(source: string, index: number, path: string, known: readonly string[]): Error {
  const near = known.map((k) => suggestion(path, k)).filter((c) => c.d <= 2).sort((a, b) => a.d - b.d)[0];
  const hint = near === undefined ? '' : `did you mean ${quote(near.k)}? `;
  return exprError('OPS_ERR_EXPR_FIELD', source, index, `unknown field ${quote(path)}`, {
    expected: 'a known field',
    note: `${hint}known fields: ${known.length === 0 ? '(none)' : known.join(', ')}`,
    details: { field: path, known: [...known] },
  });
}

// How far a known entry is from the path; "labels.*" is compared by its prefix ("label.unit" -> "labels.unit").
function suggestion(path: string, known: string): { k: string; d: number } {
  if (!known.endsWith('.*')) return { k: known, d: distance(path, known) };
  const dot = path.indexOf('.');
  const prefix = known.slice(0, -2);
  if (dot === -1) return { k: prefix, d: distance(path, prefix) };
  return { k: prefix + path.slice(dot), d: distance(path.slice(0, dot), prefix) };
}

// Levenshtein distance, for "did you mean".
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next.push(Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + cost));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}
