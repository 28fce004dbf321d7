// The filter transform: keeps the entries for which a condition in the shared expression language
// (docs/expressions.md) is true, and counts the others as dropped ("filter").
import { z } from 'zod';
import { isOpsError } from '../../core/errors.ts';
import { compile, type Expr } from '../../core/expr.ts';
import { inputs } from '../schema.ts';
import type { Definition, Transform } from '../types.ts';
import { readablePaths } from './fields.ts';

function compileCondition(source: string): Expr {
  return compile(source, { fields: readablePaths });
}

const schema = z.strictObject({
  type: z.literal('filter'),
  inputs,
  /** Entries for which this is true are kept; fields: id, timestamp, source, level, message, fields.* */
  condition: z.string().min(1).superRefine((source, ctx) => {
    try {
      compileCondition(source);
    } catch (err) {
      if (!isOpsError(err)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
    }
  }),
});

/**
 * Keeps the entries matching `condition`; an expression that cannot be read is a config error.
 *
 * @example
 *   [transforms.errors_only]
 *   type = "filter"
 *   inputs = ["app"]
 *   condition = "level in ['error', 'fatal'] || message ~ '(?i:timeout)'"
 */
export const filter = {
  schema,
  create(config, ctx): Transform {
    const expr = compileCondition(config.condition);
    return {
      process(entries) {
        const kept = entries.filter(expr.test);
        if (kept.length < entries.length) ctx.counters.dropped('filter', entries.length - kept.length);
        return kept;
      },
    };
  },
} satisfies Definition<typeof schema, Transform>;
