// The audit trail: every mutating API call and every denied one, as one record under
// /opsctl/audit/<time>-<id> (keys sort by time), kept for `retention` and listed by GET /api/v1/audit.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import type { KV, Store } from '../store/index.ts';

export const auditPrefix = '/opsctl/audit/';

export const auditRecordSchema = z.object({
  id: z.string(),
  time: z.string(),
  /** The token's subject, or "-" when the request had none that verified. */
  subject: z.string(),
  /** The client's address. */
  client: z.string(),
  method: z.string(),
  path: z.string(),
  /** What the call acted on ("config/web", "node/db-1"), when it names one. */
  target: z.string().optional(),
  /** The HTTP status answered. */
  status: z.int(),
  /** "success", "denied" (401, 403, 429) or "failure". */
  outcome: z.enum(['success', 'denied', 'failure']),
  /** The store revision the call wrote, when it wrote one. */
  revision: z.int().optional(),
  /** The error code of a failure. */
  error: z.string().optional(),
});
export type AuditRecord = z.output<typeof auditRecordSchema>;

/** Calls recorded by this process: orders its records within one millisecond. */
let sequence = 0;

/** Keys sort by time: a fixed-width UTC stamp, this process's sequence, then a random id (other replicas). */
function auditKey(time: Date, id: string): string {
  return `${auditPrefix}${time.toISOString()}-${id}`;
}

export function decodeAudit(kv: KV): AuditRecord | undefined {
  try {
    const parsed = auditRecordSchema.safeParse(JSON.parse(kv.value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export interface AuditLogOptions {
  store: Store;
  log: Logger;
  registry: Registry;
  /** How long records are kept (ms). */
  retentionMs: number;
  /** How often old records are deleted (ms, default 10 min). */
  sweepIntervalMs?: number;
}

/**
 * Writes audit records (never failing the call it records: a record that cannot be written is
 * logged and counted) and deletes those older than the retention.
 */
export class AuditLog {
  readonly #o: AuditLogOptions;
  readonly #written: Counter<'result'>;
  #timer: NodeJS.Timeout | undefined;
  #pending = new Set<Promise<void>>();

  constructor(options: AuditLogOptions) {
    this.#o = options;
    this.#written = new Counter({ name: 'opsctl_server_audit_records_total', help: 'Audit records by result of the write (written, error).', labelNames: ['result'] as const, registers: [options.registry] });
    this.#written.inc({ result: 'written' }, 0);
    this.#written.inc({ result: 'error' }, 0);
  }

  /** Records a call in the background; `flush()` waits for the records in flight. */
  record(entry: Omit<AuditRecord, 'id' | 'time'>): void {
    const time = new Date();
    const id = `${(sequence++ % 1e9).toString().padStart(9, '0')}-${randomBytes(6).toString('base64url')}`;
    const record: AuditRecord = { id, time: time.toISOString(), ...entry };
    const p = this.#o.store.put(auditKey(time, id), JSON.stringify(record)).then(
      () => { this.#written.inc({ result: 'written' }); },
      (err: unknown) => {
        this.#written.inc({ result: 'error' });
        this.#o.log.error({ err, audit: record }, 'cannot write an audit record');
      },
    ).finally(() => { this.#pending.delete(p); });
    this.#pending.add(p);
  }

  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  start(): void {
    const interval = this.#o.sweepIntervalMs ?? 600_000;
    this.#timer = setInterval(() => void this.sweep(), interval);
    this.#timer.unref();
    void this.sweep();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  /** Deletes records older than the retention; resolves to how many went. */
  async sweep(now = Date.now()): Promise<number> {
    const cutoff = auditKey(new Date(now - this.#o.retentionMs), '');
    let deleted = 0;
    try {
      for (;;) {
        const page = await this.#o.store.range(auditPrefix, { limit: 500 });
        const old = page.kvs.filter((kv) => kv.key < cutoff);
        if (old.length === 0) break;
        await this.#o.store.txn({ success: old.map((kv) => ({ op: 'delete' as const, key: kv.key })) });
        deleted += old.length;
        if (old.length < page.kvs.length || !page.more) break;
      }
    } catch (err) {
      this.#o.log.warn({ err }, 'cannot delete old audit records, trying again later');
    }
    return deleted;
  }
}
