// The one small expression language opsctl shares: `ps --filter`, probe conditions, log filters.
// Parsed once, compiled once to a plain JS function; see docs/expressions.md for the language.
import { generate } from './expr/codegen.ts';
import { parse } from './expr/parser.ts';

export { maxDepth } from './expr/parser.ts';
export { decimal } from './expr/runtime.ts';

export interface CompileOptions {
  /**
   * Known field paths; when given, an unknown field is an OPS_ERR_EXPR_FIELD error with a caret
   * and the list of known fields. A known entry "labels.*" allows any sub-path.
   */
  fields?: readonly string[];
}

/** A compiled expression. */
export interface Expr {
  /** The expression as written. */
  readonly source: string;
  /** Distinct dotted field paths the expression reads, in order of first use. */
  readonly fields: readonly string[];
  /** Whether a record matches. Never throws for plain data (nor for any value whose getters do not throw). */
  readonly test: (record: unknown) => boolean;
}

/**
 * Parses and compiles an expression. Throws OpsError OPS_ERR_EXPR_SYNTAX (with details.source,
 * line, column, expected) or OPS_ERR_EXPR_FIELD (an unknown field when options.fields is given).
 *
 * @example
 *   const hot = compile("cpu > 50 && user == 'root'", { fields: ['cpu', 'user', 'labels.*'] });
 *   procs.filter(hot.test);
 */
export function compile(source: string, options: CompileOptions = {}): Expr {
  const { ast, fields } = parse(source, { fields: options.fields });
  return Object.freeze({ source, fields: Object.freeze([...fields]), test: generate(ast) });
}
