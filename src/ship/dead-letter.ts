// The dead-letter file: entries no sink would take, one JSON line each with why and where.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { ShipMetrics } from './metrics.ts';
import type { DeadLetter, LogEntry } from './types.ts';

/**
 * Appends synchronously, so a dead-lettered entry is on disk before its batch is acknowledged.
 * A write that fails (disk full) is logged and counted; it never throws into the pipeline.
 */
export class DeadLetterFile implements DeadLetter {
  readonly path: string;
  readonly #log: Logger;
  readonly #metrics: ShipMetrics;

  constructor(path: string, log: Logger, metrics: ShipMetrics) {
    this.path = path;
    this.#log = log;
    this.#metrics = metrics;
    mkdirSync(dirname(path), { recursive: true });
  }

  write(entries: readonly LogEntry[], reason: string, component: string): void {
    if (entries.length === 0) return;
    const time = new Date().toISOString();
    let text = '';
    for (const entry of entries) text += JSON.stringify({ time, component, reason, entry }) + '\n';
    try {
      appendFileSync(this.path, text);
      this.#metrics.deadLettered.inc({ component, reason: reasonLabel(reason) }, entries.length);
    } catch (err) {
      this.#metrics.errors.inc({ component, kind: 'dead_letter', error: 'write' }, entries.length);
      this.#log.error({ err, path: this.path, component, events: entries.length }, 'cannot write dead letters');
    }
  }
}

/** A bounded label value: "status 400: ..." -> "status_400". */
function reasonLabel(reason: string): string {
  const m = /^[a-z_]+(?: \d{3})?/i.exec(reason);
  return (m ? m[0] : 'other').replace(' ', '_').toLowerCase();
}
