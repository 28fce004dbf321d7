// Creates a sink's buffer from its `buffer` config: memory (lost on restart) or disk (survives it).
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ShipMetrics } from '../metrics.ts';
import type { BufferConfig } from '../schema.ts';
import { DiskBuffer } from './disk.ts';
import { MemoryBuffer } from './memory.ts';
import type { SinkBuffer } from './types.ts';

export type { SinkBuffer, Taken } from './types.ts';

export interface CreateBufferOptions {
  /** The sink's name: the gauges' label and the disk buffer's directory name. */
  sink: string;
  /** The pipeline's data dir; a disk buffer lives in `<dataDir>/buffers/<sink>/`. */
  dataDir: string;
  metrics: ShipMetrics;
  log: Logger;
}

/**
 * The buffer a sink's config asks for; a disk buffer recovers what an earlier run left.
 * @example
 *   const buffer = await createBuffer(config.buffer, { sink: name, dataDir, metrics, log });
 */
export async function createBuffer(config: BufferConfig, options: CreateBufferOptions): Promise<SinkBuffer> {
  const { sink, metrics } = options;
  const log = options.log.child({ buffer: config.type });
  if (config.type === 'disk') {
    const dir = join(options.dataDir, 'buffers', bufferDirName(sink));
    return DiskBuffer.open({ sink, dir, maxBytes: config.max_bytes, whenFull: config.when_full, metrics, log });
  }
  return new MemoryBuffer({ sink, maxEvents: config.max_events, maxBytes: config.max_bytes, whenFull: config.when_full, metrics, log });
}

/** A sink name as one safe path component ("a/b" and ".." cannot leave the buffers dir). */
export function bufferDirName(sink: string): string {
  const name = encodeURIComponent(sink);
  return name === '.' || name === '..' ? name.replaceAll('.', '%2E') : name;
}
