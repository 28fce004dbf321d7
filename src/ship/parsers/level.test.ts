import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeLevel, severityLevel, statusLevel } from './level.ts';

test('normalizeLevel maps names, abbreviations and numbers onto the shipper levels', () => {
  const table: Array<[unknown, string]> = [
    ['trace', 'trace'], ['TRACE', 'trace'], ['T', 'trace'], [10, 'trace'],
    ['debug', 'debug'], ['DBG', 'debug'], ['D', 'debug'], [7, 'debug'], ['7', 'debug'], [20, 'debug'],
    ['info', 'info'], ['INFO', 'info'], ['I', 'info'], ['notice', 'info'], ['Informational', 'info'], [6, 'info'], [5, 'info'], [30, 'info'], ['30', 'info'],
    ['warn', 'warn'], ['WARNING', 'warn'], ['W', 'warn'], ['Warning', 'warn'], [4, 'warn'], [40, 'warn'],
    ['error', 'error'], ['ERR', 'error'], ['E', 'error'], [3, 'error'], [50, 'error'],
    ['fatal', 'fatal'], ['crit', 'fatal'], ['CRITICAL', 'fatal'], ['alert', 'fatal'], ['emerg', 'fatal'], ['panic', 'fatal'], ['F', 'fatal'],
    [0, 'fatal'], [1, 'fatal'], [2, 'fatal'], [60, 'fatal'],
    [' info ', 'info'],
    ['verbose-ish', 'unknown'], ['', 'unknown'], [8, 'unknown'], [35, 'unknown'], [-1, 'unknown'], [1.5, 'unknown'], [null, 'unknown'],
    [undefined, 'unknown'], [{ level: 'info' }, 'unknown'], [true, 'unknown'], ['x'.repeat(1000), 'unknown'],
  ];
  for (const [input, expected] of table) assert.equal(normalizeLevel(input), expected, `normalizeLevel(${JSON.stringify(input)})`);
});

test('syslog severities and HTTP statuses have their levels', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map(severityLevel), ['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug', 'unknown']);
  assert.deepEqual([200, 301, 304, 400, 404, 499, 500, 503].map(statusLevel), ['info', 'info', 'info', 'warn', 'warn', 'warn', 'error', 'error']);
});
