// Every transform, by the name `[transforms.x] type = "..."` uses. This map is the only list.
import { dedupe } from './dedupe.ts';
import { fields } from './fields.ts';
import { filter } from './filter.ts';
import { parse } from './parse.ts';
import { plugin } from './plugin.ts';
import { redact } from './redact.ts';
import { sample } from './sample.ts';
import { throttle } from './throttle.ts';

export const transforms = { parse, filter, fields, redact, sample, dedupe, throttle, plugin };
export type TransformType = keyof typeof transforms;
