// The agent link's messages: JSON text frames on one WebSocket, `{ "type": ..., ...fields }`, each
// with a zod schema. Unknown types are rejected; unknown fields are ignored (a newer peer may add
// some). parseMessage never throws: it says which close code to answer a bad frame with.
import { z } from 'zod';
import { configKindSchema, factsSchema, labelsSchema, resourceName } from './records.ts';

/** The path the server serves the link on. */
export const linkPath = '/api/v1/link';

/** Default largest message, either way (1 MiB). */
export const defaultMaxMessageBytes = 1024 * 1024;

/** WebSocket close codes the link uses (1xxx from RFC 6455, 4xxx our own). */
export const closeCodes = {
  /** The agent stops. */
  normal: 1000,
  /** The server replica stops: reconnect, possibly to another replica. */
  goingAway: 1001,
  /** A frame that is not UTF-8 JSON. */
  invalidPayload: 1007,
  /** A message of an unknown type, failing its schema, or out of order. */
  policy: 1008,
  /** A message over the size limit. */
  tooBig: 1009,
  /** The server could not register the node (store unavailable): reconnect later. */
  internal: 1011,
  /** The replica lost its lease or its link key: reconnect to register again. */
  restart: 1012,
  /** A newer connection for the same node name replaced this one. */
  replaced: 4001,
  /** No heartbeat for three intervals. */
  heartbeatTimeout: 4002,
  /** No hello within three heartbeat intervals of connecting. */
  helloTimeout: 4003,
} as const;

const revision = z.int().positive();

// agent → server
export const helloSchema = z.object({
  type: z.literal('hello'),
  name: resourceName,
  labels: labelsSchema,
  facts: factsSchema,
  /** The agent's opsctl version. */
  version: z.string().max(100),
  /** The configs the agent runs, by name, at the revision it applied: not sent again. */
  applied: z.record(resourceName, revision),
});
export const heartbeatSchema = z.object({ type: z.literal('heartbeat'), seq: z.int().nonnegative() });
export const ackSchema = z.object({
  type: z.literal('ack'),
  config: resourceName,
  revision,
  ok: z.boolean(),
  error: z.string().max(16_384).optional(),
});
export const agentMessageSchema = z.discriminatedUnion('type', [helloSchema, heartbeatSchema, ackSchema]);

// server → agent
export const welcomeSchema = z.object({ type: z.literal('welcome'), replica: z.string(), heartbeatSeconds: z.number().positive() });
export const configMessageSchema = z.object({ type: z.literal('config'), name: resourceName, kind: configKindSchema, revision, body: z.unknown() });
/**
 * A config the agent must stop running: deleted, or no longer matching its labels. `kind` is absent
 * when the server no longer knows it (deleted while the agent was away); the agent knows what it applied.
 */
export const removeSchema = z.object({ type: z.literal('remove'), name: resourceName, kind: configKindSchema.optional() });
export const errorMessageSchema = z.object({ type: z.literal('error'), code: z.string(), message: z.string() });
export const serverMessageSchema = z.discriminatedUnion('type', [welcomeSchema, configMessageSchema, removeSchema, errorMessageSchema]);

export type Hello = z.output<typeof helloSchema>;
export type Heartbeat = z.output<typeof heartbeatSchema>;
export type Ack = z.output<typeof ackSchema>;
export type AgentMessage = z.output<typeof agentMessageSchema>;
export type Welcome = z.output<typeof welcomeSchema>;
export type ConfigMessage = z.output<typeof configMessageSchema>;
export type Remove = z.output<typeof removeSchema>;
export type ErrorMessage = z.output<typeof errorMessageSchema>;
export type ServerMessage = z.output<typeof serverMessageSchema>;

/** A parsed message, or why it was refused and the close code to answer with. */
export type Parsed<T> =
  | { ok: true; message: T }
  | { ok: false; code: number; reason: string; type?: string };

/**
 * Parses one frame against a message union. Never throws.
 * @example const m = parseMessage(agentMessageSchema, data, isBinary, 1 << 20);
 */
export function parseMessage<S extends z.ZodType<{ type: string }>>(schema: S, data: Buffer | ArrayBuffer | Buffer[] | string, isBinary: boolean, maxBytes: number): Parsed<z.output<S>> {
  const bytes = typeof data === 'string' ? Buffer.byteLength(data) : Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
  if (bytes > maxBytes) return { ok: false, code: closeCodes.tooBig, reason: `message of ${bytes} bytes is over the limit of ${maxBytes}` };
  if (isBinary) return { ok: false, code: closeCodes.invalidPayload, reason: 'binary frame: expected a JSON text message' };
  const text = typeof data === 'string' ? data : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, code: closeCodes.invalidPayload, reason: 'not JSON' };
  }
  const type = typeof json === 'object' && json !== null && 'type' in json && typeof json.type === 'string' ? json.type.slice(0, 64) : undefined;
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, message: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  const reason = type === undefined ? 'no message type' : `${type}: ${where}${issue?.message ?? 'invalid'}`;
  return { ok: false, code: closeCodes.policy, reason, ...(type !== undefined && { type }) };
}

/** A close reason fits in a control frame (123 bytes). */
export function closeReason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}
