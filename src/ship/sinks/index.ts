// Every sink, by the name `[sinks.x] type = "..."` uses. This map is the only list.
import { console } from './console.ts';
import { file } from './file.ts';
import { http } from './http.ts';
import { tcp } from './tcp.ts';

export const sinks = { console, file, http, tcp };
export type SinkType = keyof typeof sinks;
