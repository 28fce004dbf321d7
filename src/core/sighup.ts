// SIGHUP for the commands that reload on it: held from the entry's first line so it never ends the
// process (its default action) while the program loads, remembered until the service can reload.
// No imports: src/cli.ts loads this before anything else.

/** What a reload handler is told about the SIGHUP it reacts to. */
export interface SighupEvent {
  /** The SIGHUP arrived before the handler was registered and was held for it (several count as one). */
  queued: boolean;
}

export type SighupHandler = (event: SighupEvent) => void;

const handlers = new Set<SighupHandler>();
let held = false;
let queued = false;

function onSignal(): void {
  if (handlers.size === 0) {
    queued = true;
    return;
  }
  for (const handler of [...handlers]) handler({ queued: false });
}

/**
 * Installs the process's one SIGHUP listener, for the life of the process: from then on a SIGHUP
 * never ends it. One that arrives while no handler is registered (the program is still loading,
 * the service is starting or stopping) is remembered for the next `onSighup`; several count as one.
 * Idempotent.
 */
export function holdSighup(): void {
  if (held) return;
  held = true;
  process.on('SIGHUP', onSignal);
}

/**
 * Registers a service's reload handler (holding SIGHUP first if the entry did not). Register it once
 * the service has started: a SIGHUP held until then runs the handler once, synchronously, before
 * this returns. Returns the remover; after it, SIGHUPs are held again.
 * @example
 *   await service.start();
 *   life.add('sighup', onSighup(({ queued }) => { log.info({ queued }, 'reloading config'); void service.reload(); }));
 */
export function onSighup(handler: SighupHandler): () => void {
  holdSighup();
  handlers.add(handler);
  if (queued) {
    queued = false;
    handler({ queued: true });
  }
  return () => { handlers.delete(handler); };
}
