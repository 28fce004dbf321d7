// The scheduled targets' side of /metrics and /api/v1/targets: each target's last result under
// blackbox_exporter's metric names, labelled name/target/module plus its own labels, and counters.
// Lines are written once per result and the block cached, so a scrape of 10,000 targets stays cheap.
import { familyBlock, labelString, probeFamilies, seriesLine } from './exposition.ts';
import type { RunProbeResult } from './run-probe.ts';
import type { ScheduledTarget } from './service-config.ts';
import type { MetricSample } from './types.ts';

/** What /api/v1/targets reports for one target. */
export interface TargetStatus {
  name: string;
  target: string;
  module: string;
  intervalSeconds: number;
  labels: Record<string, string>;
  /** "unknown" until the first result. */
  health: 'up' | 'down' | 'unknown';
  lastResult?: {
    success: boolean;
    reason?: string | undefined;
    durationMs: number;
    startedAt: string;
    phases: Record<string, number>;
    /** The prober's details without `body` (which can be large). */
    details: Record<string, unknown>;
  };
  results: { success: number; failure: number };
  skipped: number;
}

interface Entry {
  target: ScheduledTarget;
  /** The counters' labels: `name="…",target="…",module="…",result="success"`... */
  labels: { success: string; failure: string; skipped: string };
  last?: RunProbeResult;
  /** The last result's series lines, by family. */
  lines: Array<{ family: string; line: string }>;
  success: number;
  failure: number;
  skipped: number;
}

type Family = Pick<MetricSample, 'help' | 'type'>;

const results = { name: 'opsctl_probe_results_total', help: 'Scheduled probes finished, by target and result (success or failure).', type: 'counter' } as const;
const skipped = { name: 'opsctl_probe_skipped_total', help: 'Scheduled probes skipped: no free slot (concurrency) or the previous run still going at the next due time.', type: 'counter' } as const;

/** Owns the per-target series; survives reloads, so unchanged targets keep their last result and counts. */
export class TargetMetrics {
  readonly #entries = new Map<string, Entry>();
  /** Every family seen, in order of first sight, with its help and type. */
  readonly #families = new Map<string, Family>(Object.entries(probeFamilies));
  /** The rendered families, cached until the next change. */
  #blocks: Array<[name: string, text: string]> | undefined;

  /**
   * Sets the scheduled targets (at start and on reload). A target whose name, target, module and
   * labels are unchanged keeps its last result and counts; others start afresh.
   */
  setTargets(targets: readonly ScheduledTarget[]): void {
    const next = new Map<string, Entry>();
    for (const t of targets) {
      const old = this.#entries.get(t.name);
      if (old && sameSeries(old.target, t)) next.set(t.name, { ...old, target: t });
      else next.set(t.name, { target: t, labels: counterLabels(t), lines: [], success: 0, failure: 0, skipped: 0 });
    }
    this.#entries.clear();
    for (const [name, entry] of next) this.#entries.set(name, entry);
    this.#blocks = undefined;
  }

  /** Records a scheduled target's result and the samples it gives. */
  record(target: ScheduledTarget, result: RunProbeResult, samples: readonly MetricSample[]): void {
    const entry = this.#entries.get(target.name);
    if (entry?.target !== target) return;
    const fixed = { name: target.name, target: target.target, module: target.module };
    entry.last = result;
    entry.lines = samples.map((s) => {
      if (!this.#families.has(s.name)) this.#families.set(s.name, { help: s.help, type: s.type });
      // Fixed labels first and last: first for their place, last so nothing overrides them.
      return { family: s.name, line: seriesLine(s.name, labelString({ ...fixed, ...target.labels, ...s.labels, ...fixed }), s.value) };
    });
    if (result.success) entry.success++;
    else entry.failure++;
    this.#blocks = undefined;
  }

  /** Counts a skipped run. */
  skip(target: ScheduledTarget): void {
    const entry = this.#entries.get(target.name);
    if (entry?.target !== target) return;
    entry.skipped++;
    this.#blocks = undefined;
  }

  /**
   * The exposition text for every target (families written at most once per change). `taken`
   * says which names belong to other metrics (the registry's): those families are left out
   * rather than written twice.
   */
  render(taken: (name: string) => boolean = () => false): string {
    this.#blocks ??= this.#renderBlocks();
    let text = '';
    for (const [name, block] of this.#blocks) if (!taken(name)) text += block;
    return text;
  }

  #renderBlocks(): Array<[string, string]> {
    const byFamily = new Map<string, string[]>([...this.#families.keys()].map((name) => [name, []]));
    const counted: { results: string[]; skipped: string[] } = { results: [], skipped: [] };
    for (const e of this.#entries.values()) {
      for (const { family, line } of e.lines) byFamily.get(family)?.push(line);
      counted.results.push(seriesLine(results.name, e.labels.success, e.success), seriesLine(results.name, e.labels.failure, e.failure));
      counted.skipped.push(seriesLine(skipped.name, e.labels.skipped, e.skipped));
    }
    const blocks: Array<[string, string]> = [...byFamily].map(([name, lines]) => {
      const family = this.#families.get(name) as Family;
      return [name, familyBlock(name, family.help, family.type, lines)];
    });
    blocks.push([results.name, familyBlock(results.name, results.help, results.type, counted.results)]);
    blocks.push([skipped.name, familyBlock(skipped.name, skipped.help, skipped.type, counted.skipped)]);
    return blocks;
  }

  /** Every target with its last result, in config order. */
  status(): TargetStatus[] {
    return [...this.#entries.values()].map(({ target: t, last, success, failure, skipped: skips }) => ({
      name: t.name, target: t.target, module: t.module, intervalSeconds: t.interval / 1000, labels: t.labels,
      health: last === undefined ? 'unknown' : last.success ? 'up' : 'down',
      ...(last && {
        lastResult: {
          success: last.success, reason: last.reason, durationMs: Math.round(last.durationMs * 1000) / 1000,
          startedAt: new Date(last.startedAt).toISOString(), phases: last.phases,
          details: Object.fromEntries(Object.entries(last.details).filter(([k]) => k !== 'body')),
        },
      }),
      results: { success, failure }, skipped: skips,
    }));
  }
}

function counterLabels(t: ScheduledTarget): Entry['labels'] {
  const identity = labelString({ name: t.name, target: t.target, module: t.module });
  return { success: `${identity},result="success"`, failure: `${identity},result="failure"`, skipped: identity };
}

function sameSeries(a: ScheduledTarget, b: ScheduledTarget): boolean {
  if (a.target !== b.target || a.module !== b.module) return false;
  const ka = Object.keys(a.labels);
  return ka.length === Object.keys(b.labels).length && ka.every((k) => a.labels[k] === b.labels[k]);
}
