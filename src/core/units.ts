// Durations and sizes as users write them ("90s", "1h30m", "100MiB"): one parser for config and expressions.

const durationUnits: Record<string, number> = {
  ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000,
};

const sizeUnits: Record<string, number> = {
  B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15,
  KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4, PiB: 1024 ** 5,
};

/** Unit suffixes that make a number a duration. */
export const durationSuffixes: readonly string[] = Object.keys(durationUnits);
/** Unit suffixes that make a number a size. */
export const sizeSuffixes: readonly string[] = Object.keys(sizeUnits);

const durationPart = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)/y;

/**
 * Parses a duration such as "250ms", "90s", "1h30m" into milliseconds; undefined when it is not one.
 * @example parseDurationMs('1m30s') // 90000
 */
export function parseDurationMs(text: string): number | undefined {
  if (text.length === 0) return undefined;
  let total = 0;
  durationPart.lastIndex = 0;
  while (durationPart.lastIndex < text.length) {
    const start = durationPart.lastIndex;
    const m = durationPart.exec(text);
    if (m === null || m.index !== start) return undefined;
    total += Number(m[1]) * (durationUnits[m[2] as string] as number);
  }
  return total;
}

/** The number of bytes in a size unit ("MiB" -> 1048576), or undefined. */
export function sizeUnit(suffix: string): number | undefined {
  return Object.hasOwn(sizeUnits, suffix) ? sizeUnits[suffix] : undefined;
}

/** The number of milliseconds in a duration unit ("h" -> 3600000), or undefined. */
export function durationUnit(suffix: string): number | undefined {
  return Object.hasOwn(durationUnits, suffix) ? durationUnits[suffix] : undefined;
}

/**
 * Parses a size such as "512", "100MiB", "1.5GB" into bytes; undefined when it is not one.
 * @example parseSize('100MiB') // 104857600
 */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGTP]i?B|B)?$/.exec(text);
  if (m === null) return undefined;
  const unit = m[2] === undefined ? 1 : sizeUnit(m[2]);
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

/** Formats bytes for humans, binary units: 1536 -> "1.5KiB". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)}${units[i]}`;
}

/** Formats seconds for humans, coarsest two units: 93784 -> "1d2h". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? `${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600) ? `${Math.floor((s % 86400) / 3600)}h` : ''}`;
}
