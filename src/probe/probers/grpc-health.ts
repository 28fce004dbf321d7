// The two messages of grpc.health.v1.Health/Check, hand-encoded (a string and an enum: no need for
// protobufjs and a .proto at run time), and the method definition clients and servers share.
import type { MethodDefinition } from '@grpc/grpc-js';

/** HealthCheckResponse.ServingStatus, by enum number. */
export const servingStatuses = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
export type ServingStatus = (typeof servingStatuses)[number];

export interface HealthCheckRequest {
  service: string;
}

export interface HealthCheckResponse {
  /** An enum value this code does not know reads as "UNKNOWN". */
  status: ServingStatus;
}

/** `message HealthCheckRequest { string service = 1; }` */
export function encodeRequest(request: HealthCheckRequest): Buffer {
  if (request.service === '') return Buffer.alloc(0);
  const text = Buffer.from(request.service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a]), varint(text.length), text]);
}

export function decodeRequest(bytes: Buffer): HealthCheckRequest {
  let service = '';
  readFields(bytes, (field, wire, value) => {
    if (field === 1 && wire === 2 && Buffer.isBuffer(value)) service = value.toString('utf8');
  });
  return { service };
}

/** `message HealthCheckResponse { ServingStatus status = 1; }` */
export function encodeResponse(response: HealthCheckResponse): Buffer {
  const n = servingStatuses.indexOf(response.status);
  return n <= 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x08]), varint(n)]);
}

export function decodeResponse(bytes: Buffer): HealthCheckResponse {
  let status: ServingStatus = 'UNKNOWN';
  readFields(bytes, (field, wire, value) => {
    if (field === 1 && wire === 0 && typeof value === 'number') status = servingStatuses[value] ?? 'UNKNOWN';
  });
  return { status };
}

/** grpc.health.v1.Health/Check, for `Client.makeUnaryRequest` and `Server.addService`. */
export const healthCheckMethod: MethodDefinition<HealthCheckRequest, HealthCheckResponse> = {
  path: '/grpc.health.v1.Health/Check',
  requestStream: false,
  responseStream: false,
  requestSerialize: encodeRequest,
  requestDeserialize: decodeRequest,
  responseSerialize: encodeResponse,
  responseDeserialize: decodeResponse,
};

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** Calls `each` for every field (varints as numbers, length-delimited as Buffers); throws on malformed input. */
function readFields(bytes: Buffer, each: (field: number, wire: number, value: number | Buffer) => void): void {
  let pos = 0;
  const readVarint = (): number => {
    let result = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      const b = bytes[pos++];
      if (b === undefined) throw new Error('truncated varint');
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
    }
    throw new Error('varint too long');
  };
  while (pos < bytes.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) each(field, wire, readVarint());
    else if (wire === 2) {
      const len = readVarint();
      if (pos + len > bytes.length) throw new Error('truncated field');
      each(field, wire, bytes.subarray(pos, pos + len));
      pos += len;
    } else if (wire === 1 || wire === 5) pos += wire === 1 ? 8 : 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  if (pos > bytes.length) throw new Error('truncated field');
}
