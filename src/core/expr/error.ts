// Expression errors: one message shape for syntax and field errors (what, where, the source line, a caret).
import { OpsError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';

export interface ExprErrorOptions {
  /** What would have been valid here ("a value", '")"'...), copied to details.expected. */
  expected?: string;
  /** A line printed after the caret (e.g. the list of known fields). */
  note?: string;
  /** More structured context for details. */
  details?: Record<string, unknown>;
}

// Control characters would garble the terminal; tabs are kept so the caret line can copy them.
const controlChars = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/**
 * An OpsError pointing at `index` (a UTF-16 offset) in `source`:
 *
 *     expected a value after "&&" at column 13
 *       cpu > 50 &&
 *                   ^
 *
 * Columns count code points from 1; a multi-line source reports the line too and shows only that line.
 */
export function exprError(code: ErrorCode, source: string, index: number, what: string, options: ExprErrorOptions = {}): OpsError {
  const lineStart = index === 0 ? 0 : source.lastIndexOf('\n', index - 1) + 1;
  const newline = source.indexOf('\n', index);
  const lineText = source.slice(lineStart, newline === -1 ? source.length : newline).replace(/\r$/, '');
  const before = [...source.slice(lineStart, index)];
  const line = source.slice(0, lineStart).split('\n').length;
  const column = before.length + 1;
  const where = source.includes('\n') ? `line ${line}, column ${column}` : `column ${column}`;
  const caret = before.map((ch) => (ch === '\t' ? '\t' : ' ')).join('') + '^';
  const lines = [`${what} at ${where}`, `  ${lineText.replace(controlChars, '\ufffd')}`, `  ${caret}`];
  if (options.note !== undefined) lines.push(options.note);
  const details: Record<string, unknown> = { source, line, column, ...options.details };
  if (options.expected !== undefined) details.expected = options.expected;
  return new OpsError(code, lines.join('\n'), { details });
}

/** A token or character as it appears in a message: `"&&"`, `"'root'"`, or "the end". */
export function quote(text: string | undefined): string {
  if (text === undefined || text === '') return 'the end';
  return JSON.stringify(text.length > 24 ? `${text.slice(0, 24)}…` : text);
}
