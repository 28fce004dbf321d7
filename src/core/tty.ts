// Terminal capabilities: colour only on a TTY, and never when NO_COLOR is set (https://no-color.org).
/** Whether output on this fd may use ANSI colours. FORCE_COLOR=1 forces them on (tests, pagers). */
export function useColor(fd = 1, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  // process.stdout/stderr know whether they are terminals; node:tty (and net with it) loads only if they are.
  const stream = fd === 2 ? process.stderr : fd === 1 ? process.stdout : undefined;
  return stream?.isTTY === true && env.TERM !== 'dumb';
}

export interface Palette {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const wrap = (open: number, close: number) => (s: string): string => `\x1b[${open}m${s}\x1b[${close}m`;
const identity = (s: string): string => s;

/** ANSI styles when enabled, identity functions otherwise. */
export function palette(enabled: boolean): Palette {
  if (!enabled) return { bold: identity, dim: identity, red: identity, green: identity, yellow: identity, cyan: identity };
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) };
}
