// The apache format: Apache combined (%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i") and
// common (the same without referer and agent); field names are nginx's, so both read alike downstream.
import { accessLogParser } from './access-log.ts';
import type { ParserDefinition } from './types.ts';

/** Apache combined or common lines; level from the status. */
export const apache: ParserDefinition = {
  create: () => accessLogParser('not an Apache common or combined line'),
};
