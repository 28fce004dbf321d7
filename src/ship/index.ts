// The ship tool's public face: what `opsctl up` and other tools may use from src/ship.
export { shipConfigSchema, type ShipConfig } from './config.ts';
export { loadShipConfig, ShipService, type ShipOverrides } from './service.ts';
export { runShip, shipService, type ShipServiceConfig } from './serve.ts';
export type { LogEntry } from './types.ts';
