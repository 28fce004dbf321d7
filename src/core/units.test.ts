import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationUnit, formatDuration, formatSize, parseDurationMs, parseSize, sizeUnit } from './units.ts';

test('durations', () => {
  assert.equal(parseDurationMs('250ms'), 250);
  assert.equal(parseDurationMs('90s'), 90_000);
  assert.equal(parseDurationMs('1h30m'), 5_400_000);
  assert.equal(parseDurationMs('1.5s'), 1500);
  assert.equal(parseDurationMs('2d'), 172_800_000);
  for (const bad of ['', '5', 's', '5 s', '5x', '1h 30m', '-1s']) assert.equal(parseDurationMs(bad), undefined, bad);
});

test('sizes', () => {
  assert.equal(parseSize('512'), 512);
  assert.equal(parseSize('100MiB'), 104_857_600);
  assert.equal(parseSize('1.5GB'), 1_500_000_000);
  assert.equal(parseSize('4KiB'), 4096);
  for (const bad of ['', 'MiB', '5 XB', '-1', '1mib']) assert.equal(parseSize(bad), undefined, bad);
});

test('unit lookups ignore inherited names', () => {
  assert.equal(sizeUnit('constructor'), undefined);
  assert.equal(durationUnit('toString'), undefined);
  assert.equal(sizeUnit('MiB'), 1048576);
  assert.equal(durationUnit('h'), 3_600_000);
});

test('formatting', () => {
  assert.equal(formatSize(512), '512B');
  assert.equal(formatSize(1536), '1.5KiB');
  assert.equal(formatSize(200 * 1024 * 1024), '200MiB');
  assert.equal(formatDuration(59), '59s');
  assert.equal(formatDuration(61), '1m1s');
  assert.equal(formatDuration(3600), '1h');
  assert.equal(formatDuration(93784), '1d2h');
});
