// The worker thread of the plugin transform: loads the plugin module once, then runs each batch
// posted to it and posts the results back (the main thread enforces the timeout).
import { parentPort, workerData } from 'node:worker_threads';
import { loadPlugin, runBatch, type BatchMessage, type PluginFn, type PluginResult, type WorkerMessage } from './protocol.ts';

const port = parentPort;
const post = (message: WorkerMessage): void => port?.postMessage(message);

/** A result that cannot cross to the main thread (a function, a symbol) is an error for its entry. */
function cloneable(results: PluginResult[]): PluginResult[] {
  return results.map((r) => {
    if (!r.ok) return r;
    try {
      structuredClone(r.value);
      return r;
    } catch (err) {
      return { ok: false, error: `the result cannot be sent to the shipper (${(err as Error).message})` };
    }
  });
}

async function main(): Promise<void> {
  let fn: PluginFn;
  try {
    fn = await loadPlugin((workerData as { url: string }).url);
  } catch (err) {
    post({ type: 'load_error', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  port?.on('message', (batch: BatchMessage) => {
    void runBatch(fn, batch.entries).then((results) => {
      try {
        post({ type: 'result', id: batch.id, results });
      } catch {
        post({ type: 'result', id: batch.id, results: cloneable(results) });
      }
    });
  });
  post({ type: 'ready' });
}

void main();
