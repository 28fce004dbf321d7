// textfile: families from *.prom files in --collector.textfile.directory, as node_exporter's.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { single, type CollectorDefinition, type MetricFamily } from '../types.ts';

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const labelPair = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;

const parseValue = (s: string): number => (s === '+Inf' ? Infinity : s === '-Inf' ? -Infinity : Number(s));

/**
 * A minimal text-format parser: HELP, TYPE and sample lines (timestamps ignored). Histogram and
 * summary parts become untyped families of their own. Throws on a line it cannot read.
 */
export function parseTextfile(text: string, file = 'input'): MetricFamily[] {
  const families = new Map<string, MetricFamily>();
  const meta = new Map<string, { help?: string; type?: string }>();
  const family = (name: string): MetricFamily => {
    let f = families.get(name);
    if (!f) {
      const m = meta.get(name);
      const type = m?.type === 'counter' || m?.type === 'gauge' ? m.type : 'untyped';
      families.set(name, (f = { name, help: m?.help ?? `Metric read from ${file}`, type, samples: [] }));
    }
    return f;
  };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const comment = /^#\s*(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(line);
    if (comment?.[2]) {
      const m = meta.get(comment[2]) ?? {};
      if (comment[1] === 'HELP') m.help = (comment[3] ?? '').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      else m.type = comment[3];
      meta.set(comment[2], m);
      return;
    }
    if (line.startsWith('#')) return;
    const s = sampleLine.exec(line);
    const value = s?.[3] === undefined ? NaN : parseValue(s[3]);
    if (!s?.[1] || (Number.isNaN(value) && s[3] !== 'NaN')) throw new Error(`${file}:${i + 1}: cannot parse "${line.slice(0, 80)}"`);
    const labels: Record<string, string> = {};
    if (s[2] !== undefined && s[2].trim() !== '') {
      labelPair.lastIndex = 0;
      let consumed = 0;
      for (let m = labelPair.exec(s[2]); m; m = labelPair.exec(s[2])) {
        labels[m[1] ?? ''] = (m[2] ?? '').replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
        consumed = labelPair.lastIndex;
      }
      if (consumed !== s[2].length) throw new Error(`${file}:${i + 1}: cannot parse labels "${s[2].slice(0, 80)}"`);
    }
    family(s[1]).samples.push({ labels, value });
  });
  return [...families.values()];
}

export const textfile = {
  name: 'textfile',
  defaultEnabled: true,
  create: (ctx) => ({
    async collect() {
      const out: MetricFamily[] = [];
      let error = 0;
      const dir = ctx.textfileDirectory;
      if (dir !== undefined && dir !== '') {
        const mtime: MetricFamily = { name: 'node_textfile_mtime_seconds', help: 'Unixtime mtime of textfiles successfully read.', type: 'gauge', samples: [] };
        let names: string[] = [];
        try {
          names = (await readdir(dir)).filter((n) => n.endsWith('.prom')).sort();
        } catch (err) {
          error = 1;
          ctx.log.error({ collector: 'textfile', dir, err }, 'cannot read textfile directory');
        }
        for (const name of names) {
          const path = join(dir, name);
          try {
            const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
            out.push(...parseTextfile(text, name));
            mtime.samples.push({ labels: { file: path }, value: st.mtimeMs / 1000 });
          } catch (err) {
            error = 1;
            ctx.log.error({ collector: 'textfile', file: path, err }, 'cannot read textfile');
          }
        }
        out.push(mtime);
      }
      out.push(single('node_textfile_scrape_error', '1 if there was an error opening or reading a file, 0 otherwise', 'gauge', error));
      return out;
    },
  }),
} satisfies CollectorDefinition;
