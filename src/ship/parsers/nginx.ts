// The nginx format: the default "combined" log_format
// ($remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent").
import { accessLogParser } from './access-log.ts';
import type { ParserDefinition } from './types.ts';

/** nginx "combined" lines; level from the status. */
export const nginx: ParserDefinition = {
  create: () => accessLogParser('not an nginx combined line'),
};
