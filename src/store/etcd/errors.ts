// etcd3's errors as coded OpsErrors: what the caller should do decides the code (retry, relist,
// re-grant, fix credentials), not which gRPC status came back.
import {
  ClientClosedError, EtcdAuthenticationFailedError, EtcdInvalidAuthTokenError, EtcdLeaseInvalidError,
  EtcdPermissionDeniedError, GRPCInvalidArgumentError, GRPCUnauthenticatedError,
} from 'etcd3';
import { OpsError, isOpsError } from '../../core/errors.ts';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** `what` names the operation ("txn", "watch /opsctl/nodes/") for the message. */
export function storeError(err: unknown, what: string): OpsError {
  if (isOpsError(err)) return err;
  const text = message(err);
  const coded = (code: ConstructorParameters<typeof OpsError>[0], details: Record<string, unknown> = {}): OpsError =>
    new OpsError(code, `etcd ${what}: ${text}`, { cause: err, details });
  if (text.includes('required revision has been compacted')) return coded('OPS_ERR_STORE_COMPACTED');
  if (err instanceof EtcdLeaseInvalidError || text.includes('requested lease not found')) return coded('OPS_ERR_STORE_LEASE_NOT_FOUND');
  if (err instanceof EtcdAuthenticationFailedError || err instanceof EtcdPermissionDeniedError
    || err instanceof EtcdInvalidAuthTokenError || err instanceof GRPCUnauthenticatedError) return coded('OPS_ERR_STORE_AUTH');
  if (err instanceof ClientClosedError) return coded('OPS_ERR_STORE_CLOSED');
  if (err instanceof GRPCInvalidArgumentError || text.includes('future revision') || text.includes('duplicate key')
    || text.includes('too many operations') || text.includes('request is too large')) return coded('OPS_ERR_STORE_REQUEST');
  // Unavailable, deadline exceeded, an open circuit breaker, a leader change: all worth a retry.
  return coded('OPS_ERR_STORE_UNAVAILABLE');
}
