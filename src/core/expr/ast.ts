// The syntax tree of a filter expression: what the parser builds and the code generator reads.

/** A literal value as written in an expression (durations and sizes are already numbers). */
export type LiteralValue = number | string | boolean | null;

/** Comparison operators other than regex match and list membership. */
export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** A field read from the record: `labels.unit` has segments ["labels", "unit"]. */
export interface FieldNode { readonly kind: 'field'; readonly path: string; readonly segments: readonly string[] }

/** A number, string, boolean or null literal. */
export interface LiteralNode { readonly kind: 'literal'; readonly value: LiteralValue }

/** `!x` or `not x`. */
export interface NotNode { readonly kind: 'not'; readonly operand: ExprNode }

/** `a && b && ...` or `a || b || ...`, kept flat so long chains do not nest. */
export interface LogicalNode { readonly kind: 'and' | 'or'; readonly operands: readonly ExprNode[] }

/** `a == b`, `a < b`... */
export interface CompareNode { readonly kind: 'compare'; readonly op: CompareOp; readonly left: ExprNode; readonly right: ExprNode }

/** `a ~ "re"` (or `!~` when negate), the regex compiled once by the parser. */
export interface MatchNode { readonly kind: 'match'; readonly negate: boolean; readonly left: ExprNode; readonly regex: RegExp }

/** `a in [..]` (or `not in` when negate). */
export interface InNode { readonly kind: 'in'; readonly negate: boolean; readonly left: ExprNode; readonly values: readonly LiteralValue[] }

/** Any expression node. */
export type ExprNode = FieldNode | LiteralNode | NotNode | LogicalNode | CompareNode | MatchNode | InNode;
