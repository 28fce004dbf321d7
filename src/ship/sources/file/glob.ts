// Glob expansion for the file source (node:fs glob, excludes by path.matchesGlob), and the
// directories worth watching for a prompt reaction to new and renamed files.
import { glob } from 'node:fs/promises';
import { dirname, matchesGlob } from 'node:path';

/** Paths matching any of `include` and none of `exclude`, sorted; a glob matching nothing adds nothing. */
export async function expandGlobs(include: readonly string[], exclude: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const pattern of include) {
    for await (const path of glob(pattern)) {
      if (!exclude.some((ex) => matchesGlob(path, ex))) found.add(path);
    }
  }
  return [...found].sort();
}

/** The fixed directory part of a glob ("/var/log/app" for "/var/log/app/*.log"), and whether it recurses. */
export function globBase(pattern: string): { dir: string; recursive: boolean } {
  const parts = pattern.split('/');
  const firstMagic = parts.findIndex((p) => /[*?[\]{}]/.test(p));
  if (firstMagic < 0) return { dir: dirname(pattern), recursive: false };
  const dir = parts.slice(0, firstMagic).join('/') || (pattern.startsWith('/') ? '/' : '.');
  return { dir, recursive: firstMagic < parts.length - 1 };
}
