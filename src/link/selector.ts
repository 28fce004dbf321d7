// Kubernetes-style label selectors: which nodes a config document targets, and the `?selector=`
// of the server's list endpoints. Equality-based (k=v, k==v, k!=v) and set-based (k in (a,b),
// k notin (a), k, !k) requirements joined by commas, all of which must hold. Pure: no I/O.
import { OpsError } from '../core/errors.ts';

/** One requirement of a selector. */
export type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: readonly string[] }
  | { key: string; op: 'exists' | 'notexists' };

/** A parsed selector: every requirement must hold. Empty matches every label set. */
export type Selector = readonly Requirement[];

/** A label key: an optional DNS-style prefix and "/", then a name of letters, digits, "-", "_", "." (as Kubernetes). */
const keyPattern = /^(?:[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
/** A label value: empty, or up to 63 letters, digits, "-", "_", "." starting and ending with an alphanumeric. */
const valuePattern = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

/** Whether `key` is a valid label key (records.ts validates node labels with it). */
export function isLabelKey(key: string): boolean {
  return keyPattern.test(key);
}

/** Whether `value` is a valid label value. */
export function isLabelValue(value: string): boolean {
  return valuePattern.test(value);
}

type Token =
  | { kind: 'word'; text: string; pos: number }
  | { kind: 'op'; text: '=' | '==' | '!=' | '!' | '(' | ')' | ','; pos: number }
  | { kind: 'end'; pos: number };

const wordChar = /[A-Za-z0-9._/-]/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (wordChar.test(c)) {
      const start = i;
      while (i < text.length && wordChar.test(text[i] as string)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), pos: start });
    } else if (c === '=' || c === '!') {
      const two = text.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        tokens.push({ kind: 'op', text: two, pos: i });
        i += 2;
      } else {
        tokens.push({ kind: 'op', text: c, pos: i });
        i++;
      }
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'op', text: c, pos: i });
      i++;
    } else {
      throw syntaxError(text, i, `unexpected character "${c}"`);
    }
  }
  tokens.push({ kind: 'end', pos: text.length });
  return tokens;
}

function syntaxError(text: string, position: number, what: string): OpsError {
  return new OpsError('OPS_ERR_SELECTOR', `label selector at position ${position}: ${what}\n  ${text}\n  ${' '.repeat(position)}^`, {
    details: { selector: text, position },
  });
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'the end' : `"${token.text}"`;
}

/**
 * Parses a selector; throws OPS_ERR_SELECTOR naming the 0-based position of a syntax error.
 * @example parseSelector('role=web,env!=dev,tier in (a,b),!canary')
 */
export function parseSelector(text: string): Selector {
  const tokens = tokenize(text);
  let at = 0;
  const peek = (): Token => tokens[at] as Token;
  const next = (): Token => tokens[at++] as Token;
  const key = (): string => {
    const t = next();
    if (t.kind !== 'word') throw syntaxError(text, t.pos, `expected a label key, got ${describe(t)}`);
    if (!isLabelKey(t.text)) throw syntaxError(text, t.pos, `"${t.text}" is not a valid label key`);
    return t.text;
  };
  /** A value after = == !=: may be empty (then the next token is "," or the end). */
  const value = (): string => {
    const t = peek();
    if (t.kind === 'end' || (t.kind === 'op' && t.text === ',')) return '';
    next();
    if (t.kind !== 'word') throw syntaxError(text, t.pos, `expected a label value, got ${describe(t)}`);
    if (!isLabelValue(t.text)) throw syntaxError(text, t.pos, `"${t.text}" is not a valid label value`);
    return t.text;
  };
  const values = (): string[] => {
    const open = next();
    if (open.kind !== 'op' || open.text !== '(') throw syntaxError(text, open.pos, `expected "(", got ${describe(open)}`);
    const out: string[] = [];
    for (;;) {
      const t = next();
      if (t.kind !== 'word') throw syntaxError(text, t.pos, `expected a label value, got ${describe(t)}`);
      if (!isLabelValue(t.text)) throw syntaxError(text, t.pos, `"${t.text}" is not a valid label value`);
      out.push(t.text);
      const sep = next();
      if (sep.kind === 'op' && sep.text === ')') return out;
      if (sep.kind !== 'op' || sep.text !== ',') throw syntaxError(text, sep.pos, `expected "," or ")", got ${describe(sep)}`);
    }
  };

  const requirements: Requirement[] = [];
  if (peek().kind === 'end') return requirements;
  for (;;) {
    const first = peek();
    if (first.kind === 'op' && first.text === '!') {
      next();
      requirements.push({ key: key(), op: 'notexists' });
    } else {
      const k = key();
      const op = peek();
      if (op.kind === 'op' && (op.text === '=' || op.text === '==')) {
        next();
        requirements.push({ key: k, op: 'eq', value: value() });
      } else if (op.kind === 'op' && op.text === '!=') {
        next();
        requirements.push({ key: k, op: 'neq', value: value() });
      } else if (op.kind === 'word' && (op.text === 'in' || op.text === 'notin')) {
        next();
        requirements.push({ key: k, op: op.text, values: values() });
      } else if (op.kind === 'end' || (op.kind === 'op' && op.text === ',')) {
        requirements.push({ key: k, op: 'exists' });
      } else {
        throw syntaxError(text, op.pos, `expected "=", "==", "!=", "in", "notin", "," or the end after "${k}", got ${describe(op)}`);
      }
    }
    const sep = next();
    if (sep.kind === 'end') return requirements;
    if (sep.kind !== 'op' || sep.text !== ',') throw syntaxError(text, sep.pos, `expected "," or the end, got ${describe(sep)}`);
  }
}

/** Whether `labels` satisfy every requirement of `selector` (an empty selector matches everything). */
export function matches(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  return selector.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const value = has ? labels[r.key] : undefined;
    switch (r.op) {
      case 'eq': return has && value === r.value;
      case 'neq': return !has || value !== r.value;
      case 'in': return has && r.values.includes(value as string);
      case 'notin': return !has || !r.values.includes(value as string);
      case 'exists': return has;
      case 'notexists': return !has;
    }
  });
}

/** The selector in its canonical text form (`formatSelector(parseSelector(s))` parses to the same). */
export function formatSelector(selector: Selector): string {
  return selector.map((r) => {
    switch (r.op) {
      case 'eq': return `${r.key}=${r.value}`;
      case 'neq': return `${r.key}!=${r.value}`;
      case 'in': case 'notin': return `${r.key} ${r.op} (${r.values.join(',')})`;
      case 'exists': return r.key;
      case 'notexists': return `!${r.key}`;
    }
  }).join(',');
}
