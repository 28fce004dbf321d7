// Renders process lists: aligned table (optionally as a tree), CSV, JSON and NDJSON.
import type { Palette } from '../core/tty.ts';
import { fields, formatField, pick, type FieldName, type ProcessInfo } from './process.ts';
import type { TreeRow } from './tree.ts';

export interface TableOptions {
  columns: readonly FieldName[];
  /** Cut rows to this many characters (terminal width); undefined means never. */
  width?: number | undefined;
  palette: Palette;
  /** Rows whose cpu is above this are highlighted (when the palette has colour). */
  highlightCpu?: number | undefined;
  /** Show the header row (default true). */
  header?: boolean;
}

/** An aligned table; with tree rows, the command (or name) column carries the tree prefix. */
export function renderTable(rows: readonly ProcessInfo[] | readonly TreeRow[], options: TableOptions): string {
  const { columns, palette } = options;
  const treeCol = columns.includes('cmd') ? columns.indexOf('cmd') : columns.indexOf('name');
  const cells: string[][] = [];
  const procs: ProcessInfo[] = [];
  for (const row of rows) {
    const p = 'process' in row ? row.process : row;
    const prefix = 'process' in row ? row.prefix : '';
    procs.push(p);
    cells.push(columns.map((c, i) => (i === treeCol ? prefix : '') + formatField(p, c)));
  }
  const headers = columns.map((c) => fields[c].header);
  const right = columns.map((c) => 'right' in fields[c]);
  const widths = headers.map((h) => h.length);
  for (const row of cells) {
    for (let i = 0; i < row.length; i++) if ((row[i] as string).length > (widths[i] as number)) widths[i] = (row[i] as string).length;
  }
  const last = columns.length - 1;
  const line = (values: readonly string[]): string => {
    let text = '';
    for (let i = 0; i <= last; i++) {
      const v = values[i] as string;
      if (i > 0) text += '  ';
      if (right[i]) text += v.padStart(widths[i] as number);
      else text += i === last ? v : v.padEnd(widths[i] as number);
    }
    return options.width !== undefined && text.length > options.width ? text.slice(0, options.width) : text;
  };
  const out: string[] = [];
  if (options.header !== false) out.push(palette.bold(line(headers)));
  for (let i = 0; i < cells.length; i++) {
    const text = line(cells[i] as string[]);
    const hot = options.highlightCpu !== undefined && (procs[i] as ProcessInfo).cpu > options.highlightCpu;
    out.push(hot ? palette.red(text) : text);
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

/** CSV (RFC 4180) with a header row; raw values, not human units. */
export function renderCsv(processes: readonly ProcessInfo[], columns: readonly FieldName[]): string {
  const rows = [columns.join(',')];
  for (const p of processes) rows.push(columns.map((c) => csvCell(p[c])).join(','));
  return `${rows.join('\r\n')}\r\n`;
}

function csvCell(v: string | number | undefined | null): string {
  if (v === undefined || v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** A JSON array of records with the chosen fields. */
export function renderJson(processes: readonly ProcessInfo[], columns: readonly FieldName[]): string {
  return `${JSON.stringify(processes.map((p) => pick(p, columns)), null, 2)}\n`;
}

/** One JSON record per line. */
export function renderNdjson(processes: readonly ProcessInfo[], columns: readonly FieldName[]): string {
  let out = '';
  for (const p of processes) out += `${JSON.stringify(pick(p, columns))}\n`;
  return out;
}
