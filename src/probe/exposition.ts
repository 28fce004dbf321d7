// Probe results in the Prometheus text format: probe_success and probe_duration_seconds (the caller's,
// as in blackbox_exporter) plus the prober's own samples, written by one small formatter.
import type { MetricSample, ProbeResult, Prober } from './types.ts';

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The content type of the text exposition format Prometheus scrapes (0.0.4). */
export const expositionContentType = 'text/plain; version=0.0.4; charset=utf-8';

/** The two families every probe has, owned by the caller rather than the prober (as in blackbox_exporter). */
export const probeFamilies = {
  probe_success: { help: 'Displays whether or not the probe was a success', type: 'gauge' },
  probe_duration_seconds: { help: 'Returns how long the probe took to complete in seconds', type: 'gauge' },
} as const satisfies Record<string, Pick<MetricSample, 'help' | 'type'>>;

/**
 * Every sample a result gives: probe_success, probe_duration_seconds, then the prober's. A prober
 * whose metrics() throws contributes nothing rather than breaking the scrape; samples with an
 * invalid metric or label name are dropped for the same reason.
 */
export function resultSamples(result: ProbeResult, prober: Prober): MetricSample[] {
  let own: MetricSample[];
  try {
    own = prober.metrics(result);
  } catch {
    own = [];
  }
  return [
    { name: 'probe_success', ...probeFamilies.probe_success, value: result.success ? 1 : 0 },
    { name: 'probe_duration_seconds', ...probeFamilies.probe_duration_seconds, value: result.durationMs / 1000 },
    ...own.filter(validSample),
  ];
}

function validSample(s: MetricSample): boolean {
  return metricName.test(s.name) && Object.keys(s.labels ?? {}).every((k) => labelName.test(k) && !k.startsWith('__'));
}

/** A label value escaped for the text format: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

/** Labels as written inside the braces: `a="x",b="y"` (empty for none). */
export function labelString(labels: Readonly<Record<string, string>>): string {
  let out = '';
  for (const [k, v] of Object.entries(labels)) out += `${out === '' ? '' : ','}${k}="${escapeLabelValue(v)}"`;
  return out;
}

/** A sample value as the text format writes it: NaN, +Inf, -Inf, or the number. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * One series line: `name{labels} value`. Built with join() rather than `+`, which gives a flat
 * string: V8 keeps `+` results as trees of pieces, and joining 200,000 of those at a scrape
 * costs ten times what copying flat ones does.
 */
export function seriesLine(name: string, labels: string, value: number): string {
  return (labels === '' ? [name, ' ', formatValue(value)] : [name, '{', labels, '} ', formatValue(value)]).join('');
}

/** A family: its HELP and TYPE lines, then its series lines, ending in a newline. */
export function familyBlock(name: string, help: string, type: MetricSample['type'], lines: readonly string[]): string {
  const escaped = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return `# HELP ${name} ${escaped}\n# TYPE ${name} ${type}\n${lines.length === 0 ? '' : `${lines.join('\n')}\n`}`;
}

/**
 * A fresh exposition of these samples alone, as /probe returns it: families sorted by name as
 * blackbox_exporter's are; the first sample of a name sets its help and type, and a repeated
 * series (same name and labels) keeps its first value.
 */
export function renderSamples(samples: Iterable<MetricSample>): string {
  const families = new Map<string, { sample: MetricSample; lines: string[]; seen: Set<string> }>();
  for (const s of samples) {
    let family = families.get(s.name);
    if (!family) families.set(s.name, (family = { sample: s, lines: [], seen: new Set() }));
    const labels = labelString(s.labels ?? {});
    if (family.seen.has(labels)) continue;
    family.seen.add(labels);
    family.lines.push(seriesLine(s.name, labels, s.value));
  }
  return [...families.keys()].sort().map((name) => {
    const { sample, lines } = families.get(name) as { sample: MetricSample; lines: string[] };
    return familyBlock(name, sample.help, sample.type, lines);
  }).join('');
}
