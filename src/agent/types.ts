// The shapes every agent collector shares: its context, its output, and its map entry.
import type { Logger } from 'pino';

/** One series of a family: labels (possibly none) and a value. */
export interface Sample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

/** A metric family as a collector returns it; the scrape renders it in the text format. */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'untyped';
  samples: Sample[];
}

/** What a collector is built with: injectable roots (node_exporter's --path.*) and a logger. */
export interface CollectorContext {
  procfs: string;
  sysfs: string;
  rootfs: string;
  log: Logger;
  /** Directory of *.prom files for the textfile collector; undefined means none. */
  textfileDirectory?: string;
}

/** A built collector: one call per scrape. Throwing marks it failed for this scrape only. */
export interface Collector {
  collect(): Promise<MetricFamily[]> | MetricFamily[];
}

/** A map entry: node_exporter's registerCollector(name, defaultEnabled, factory). */
export interface CollectorDefinition {
  name: string;
  defaultEnabled: boolean;
  create(ctx: CollectorContext): Collector;
}

/** A family with one unlabelled sample. */
export function single(name: string, help: string, type: MetricFamily['type'], value: number): MetricFamily {
  return { name, help, type, samples: [{ value }] };
}
