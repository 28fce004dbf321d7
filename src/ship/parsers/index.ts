// Every line format the parse transform knows, by its `format` name. This map is the only list.
import { apache } from './apache.ts';
import { json } from './json.ts';
import { logfmt } from './logfmt.ts';
import { nginx } from './nginx.ts';
import { regex } from './regex.ts';
import { syslog } from './syslog.ts';
import type { ParserDefinition } from './types.ts';

/** The formats by name; each builds a pure line parser once from the transform's options. */
export const parsers = { json, logfmt, regex, nginx, apache, syslog } satisfies Record<string, ParserDefinition>;
export type Format = keyof typeof parsers;

