// The ship tool's public face: what `opsctl up` and other tools may use from src/ship.
export { shipConfigSchema, type ShipConfig } from './config.ts';
export { loadShipConfig, registerShipRoutes, ShipService, type ReloadOutcome, type ShipOverrides } from './service.ts';
export type { LogEntry } from './types.ts';
