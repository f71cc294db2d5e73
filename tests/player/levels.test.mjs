import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from './player.mjs';

const { Bus, Events } = await load('bus.js');
const { LevelsStore, describeLevels, label } = await load('levels.js');

globalThis.location ??= { href: 'http://127.0.0.1:8000/play/abr' }; // definitionName resolves URLs against it

const HLS_LEVELS = [
  { attrs: {}, name: '', url: ['http://127.0.0.1:8000/media/abr/LD/index.m3u8'], width: 640, height: 360, bitrate: 800_000 },
  { attrs: { NAME: 'HD' }, url: 'http://127.0.0.1:8000/media/abr/HD/index.m3u8', width: 1280, height: 720, bitrate: 3_000_000, averageBitrate: 2_000_000 },
];

test('the store holds the levels once and announces each change on the bus', () => {
  const bus = new Bus();
  const store = new LevelsStore(bus);
  const heard = [];
  bus.on(Events.LEVELS, (data) => heard.push({ ...data, names: store.all().map((l) => l.name) }));
  assert.deepEqual(store.all(), []);
  store.set(describeLevels(HLS_LEVELS));
  store.set(describeLevels(HLS_LEVELS.slice(1)));
  // Handlers read the store itself, and it already holds the new levels when they run.
  assert.deepEqual(heard, [{ count: 2, names: ['LD', 'HD'] }, { count: 1, names: ['HD'] }]);
});

test('readers get one level by index, or null out of range', () => {
  const store = new LevelsStore(new Bus());
  store.set(describeLevels(HLS_LEVELS));
  assert.equal(store.count, 2);
  assert.equal(store.at(1).name, 'HD');
  assert.equal(store.nameOf(0), 'LD');
  for (const i of [-1, 2, null, undefined]) {
    assert.equal(store.at(i), null);
    assert.equal(store.nameOf(i), null);
  }
  assert.equal(label(store.at(1)), 'HD · 1280×720');
  assert.equal(store.topBitrate(), 3_000_000);
});

test('what the store holds cannot be changed by a reader', () => {
  const store = new LevelsStore(new Bus());
  const given = describeLevels(HLS_LEVELS);
  store.set(given);
  given[0].name = 'changed after set'; // the caller's own array is not the store's
  assert.equal(store.nameOf(0), 'LD');
  assert.throws(() => { 'use strict'; store.all()[0].name = 'x'; }, TypeError);
  assert.throws(() => store.all().push({}), TypeError);
});

test('destroy forgets the levels and leaves nothing on the bus', () => {
  const bus = new Bus();
  const store = new LevelsStore(bus);
  store.set(describeLevels(HLS_LEVELS));
  store.destroy();
  assert.deepEqual(store.all(), []);
  assert.equal(store.topBitrate(), 0);
  assert.equal(bus.listenerCount(), 0);
});
