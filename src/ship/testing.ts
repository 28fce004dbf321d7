// Test helpers for shipper components: a context with a silent logger, a fresh registry and a temp data dir.
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../core/log.ts';
import { createRegistry, type Registry } from '../core/metrics.ts';
import { ShipMetrics } from './metrics.ts';
import type { ComponentKind } from './metrics.ts';
import type { ComponentContext, DeadLetter, LogEntry } from './types.ts';

/** A dead letter that keeps what it is given. */
export class MemoryDeadLetter implements DeadLetter {
  readonly written: Array<{ entry: LogEntry; reason: string; component: string }> = [];
  write(entries: readonly LogEntry[], reason: string, component: string): void {
    for (const entry of entries) this.written.push({ entry, reason, component });
  }
}

export interface TestContext extends ComponentContext {
  registry: Registry;
  deadLetter: MemoryDeadLetter;
}

/** A context for one component; `dataDir` is a fresh temp dir. */
export function testContext(name = 'test', kind: ComponentKind = 'transform', overrides: Partial<ComponentContext> = {}): TestContext {
  const registry = createRegistry({ runtime: false });
  const metrics = new ShipMetrics(registry);
  const dataDir = mkdtempSync(join(tmpdir(), 'opsctl-ship-test-'));
  return {
    name, log: silentLogger(), counters: metrics.component(kind, name), metrics, dataDir, configDir: dataDir,
    deadLetter: new MemoryDeadLetter(), registry, ...overrides,
  } as TestContext;
}

let seq = 0;
/** An entry as a file source would emit it, with overrides. */
export function entry(message: string, overrides: Partial<LogEntry> = {}): LogEntry {
  return { id: `test:${seq++}`, timestamp: '2026-11-22T10:00:00.000Z', source: '/var/log/test.log', level: 'unknown', message, fields: {}, ...overrides };
}

/** The value of one sample of a metric, or undefined. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return undefined;
  const data = await metric.get();
  const sample = data.values.find((v) => Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val));
  return sample?.value;
}

/** Appends text to a file (for tail tests). */
export function append(file: string, text: string | Buffer): void {
  appendFileSync(file, text);
}
