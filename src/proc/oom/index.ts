// The OOM watcher's public face: what `opsctl up` and other tools may use from src/proc/oom.
export { oomConfigSchema, type OomConfig } from './config.ts';
export { formatEventText, type OomEvent, type OomScope, type OomSource } from './event.ts';
export { parseKmsgRecord, parseMemoryEvents, parseOomControl, parseOomMessage, parseVmstat } from './parse.ts';
export type { KmsgRecord, MemoryEvents, OomControl, OomKmsgInfo } from './parse.ts';
export type { RetryPolicy } from './webhook.ts';
export { OomWatcher, type OomWatcherOptions, type OomWatchStatus } from './watcher.ts';
