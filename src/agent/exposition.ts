// Agent families in the text exposition format, written with the probe service's formatter.
import { labelString, seriesLine } from '../probe/exposition.ts';
import type { MetricFamily } from './types.ts';

/**
 * The text format of these families, sorted by name as node_exporter's are. Families of the same
 * name (a textfile repeating one of ours) are merged; the first sets help and type, and a repeated
 * series keeps its first value.
 */
export function renderFamilies(families: Iterable<MetricFamily>): string {
  const byName = new Map<string, { family: MetricFamily; lines: string[]; seen: Set<string> }>();
  for (const f of families) {
    let entry = byName.get(f.name);
    if (!entry) byName.set(f.name, (entry = { family: f, lines: [], seen: new Set() }));
    for (const s of f.samples) {
      const labels = labelString(s.labels ?? {});
      if (entry.seen.has(labels)) continue;
      entry.seen.add(labels);
      entry.lines.push(seriesLine(f.name, labels, s.value));
    }
  }
  const out: string[] = [];
  for (const name of [...byName.keys()].sort()) {
    const entry = byName.get(name);
    if (entry && entry.lines.length > 0) out.push(block(name, entry.family.help, entry.family.type, entry.lines));
  }
  return out.join('');
}

// The probe formatter's familyBlock knows only counter and gauge; vmstat and textfile need untyped.
function block(name: string, help: string, type: MetricFamily['type'], lines: readonly string[]): string {
  return `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n${lines.join('\n')}\n`;
}
