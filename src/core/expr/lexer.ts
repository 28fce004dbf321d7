// Tokens of the expression language, read one at a time so the first error by position is the one reported.
import type { OpsError } from '../errors.ts';
import { durationSuffixes, parseDurationMs, sizeSuffixes, sizeUnit } from '../units.ts';
import { exprError, quote } from './error.ts';
import type { ExprErrorOptions } from './error.ts';

/** name: a field path or keyword; end: past the last character. */
export type TokenKind = 'name' | 'number' | 'string' | 'punct' | 'end';

export interface Token {
  readonly kind: TokenKind;
  /** The token as written (a string keeps its quotes); empty at the end. */
  readonly text: string;
  /** UTF-16 offset of the token's first character. */
  readonly start: number;
  /** The number, the string's decoded content, or the text of a name or punctuation. */
  readonly value: number | string;
}

// Longest first, so "<=" wins over "<".
const punctuation = ['==', '!=', '<=', '>=', '!~', '&&', '||', '<', '>', '~', '!', '(', ')', '[', ']', ',', '-'];
const misspelt = new Map([['=', '=='], ['&', '&&'], ['|', '||']]);
const whitespace = /[ \t\r\n]*/y;
const name = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
const numberPrefix = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const unitTail = /[0-9A-Za-z_µ.]*/y;
const escapes = new Map([['\\', '\\'], ["'", "'"], ['"', '"'], ['n', '\n'], ['t', '\t'], ['r', '\r']]);
const unitNote = `units: ${durationSuffixes.join(' ')} (a duration, in seconds); ${sizeSuffixes.join(' ')} (a size, in bytes)`;

/** A pull lexer: `peek()` looks at the next token, `take()` consumes it. Throws OPS_ERR_EXPR_SYNTAX. */
export class Lexer {
  readonly source: string;
  /** The last token taken, so messages can say "after X". */
  previous: Token | undefined;
  #pos = 0;
  #next: Token | undefined;

  constructor(source: string) {
    this.source = source;
  }

  peek(): Token {
    return (this.#next ??= this.#read());
  }

  take(): Token {
    const token = this.peek();
    this.#next = undefined;
    this.previous = token;
    return token;
  }

  /** A syntax error at a source offset. */
  error(index: number, what: string, options?: ExprErrorOptions): OpsError {
    return exprError('OPS_ERR_EXPR_SYNTAX', this.source, index, what, options);
  }

  #read(): Token {
    const src = this.source;
    whitespace.lastIndex = this.#pos;
    whitespace.exec(src);
    const start = whitespace.lastIndex;
    const ch = src[start];
    if (ch === undefined) return this.#token('end', start, start, '');
    if (/[A-Za-z_]/.test(ch)) {
      name.lastIndex = start;
      name.exec(src);
      const end = name.lastIndex;
      if (src[end] === '.') throw this.error(end + 1, 'expected a field name after "."', { expected: 'a field name' });
      return this.#token('name', start, end, src.slice(start, end));
    }
    if (ch >= '0' && ch <= '9') return this.#number(start);
    if (ch === '"' || ch === "'") return this.#string(start, ch);
    const punct = punctuation.find((p) => src.startsWith(p, start));
    if (punct !== undefined) return this.#token('punct', start, start + punct.length, punct);
    const meant = misspelt.get(ch);
    if (meant !== undefined) throw this.error(start, `${quote(ch)} is not an operator`, { expected: quote(meant), note: `use ${quote(meant)}` });
    const cp = src.codePointAt(start) ?? 0;
    if (/\s/.test(ch)) throw this.error(start, `unexpected space character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`, { note: 'use plain spaces' });
    throw this.error(start, `unexpected character ${quote(String.fromCodePoint(cp))}`);
  }

  #token(kind: TokenKind, start: number, end: number, value: number | string): Token {
    this.#pos = end;
    return { kind, text: this.source.slice(start, end), start, value };
  }

  // 50, 0.5, 1e3, and with a unit suffix: 90s, 1h30m, 300ms (as seconds), 100MiB, 1.5GB (as bytes).
  #number(start: number): Token {
    const src = this.source;
    numberPrefix.lastIndex = start;
    numberPrefix.exec(src);
    const end = numberPrefix.lastIndex;
    unitTail.lastIndex = end;
    unitTail.exec(src);
    const wordEnd = unitTail.lastIndex;
    if (wordEnd === end) return this.#token('number', start, end, Number(src.slice(start, end)));
    const word = src.slice(start, wordEnd);
    const value = unitValue(word);
    if (value !== undefined) return this.#token('number', start, wordEnd, value);
    const suffix = src.slice(end, wordEnd);
    if (/^[A-Za-zµ_]+$/.test(suffix) && !durationSuffixes.includes(suffix) && !sizeSuffixes.includes(suffix)) {
      throw this.error(end, `unknown unit ${quote(suffix)} in ${quote(word)}`, { expected: 'a unit', note: unitNote });
    }
    throw this.error(start, `invalid number ${quote(word)}`, { expected: 'a number', note: unitNote });
  }

  // 'single' or "double" quoted; \\ \' \" \n \t \r are escapes, any other backslash is kept (so "\d+" is a regex for digits).
  #string(start: number, q: string): Token {
    const src = this.source;
    let out = '';
    let chunk = start + 1;
    for (let i = chunk; i < src.length; i++) {
      const c = src[i];
      if (c === q) return this.#token('string', start, i + 1, out + src.slice(chunk, i));
      if (c !== '\\') continue;
      const next = src[i + 1];
      if (next === undefined) break;
      out += src.slice(chunk, i) + (escapes.get(next) ?? `\\${next}`);
      i++;
      chunk = i + 1;
    }
    throw this.error(start, 'unterminated string', { expected: `a closing ${q}` });
  }
}

/** The value of a number with a unit: durations in seconds, sizes in (rounded) bytes; undefined if not one. */
export function unitValue(word: string): number | undefined {
  const ms = parseDurationMs(word);
  if (ms !== undefined) return ms / 1000;
  const m = /^(\d+(?:\.\d+)?)([A-Za-z]+)$/.exec(word);
  // sizeSuffixes first: sizeUnit() is a plain object lookup, so "constructor" would find Object's.
  const unit = m?.[2] === undefined || !sizeSuffixes.includes(m[2]) ? undefined : sizeUnit(m[2]);
  return unit === undefined ? undefined : Math.round(Number(m?.[1]) * unit);
}
