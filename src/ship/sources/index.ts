// Every source, by the name `[sources.x] type = "..."` uses. This map is the only list.
import { file } from './file.ts';
import { stdin } from './stdin.ts';

export const sources = { file, stdin };
export type SourceType = keyof typeof sources;
