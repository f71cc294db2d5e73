import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from './player.mjs';

const { Bus } = await load('bus.js');

test('on and emit call handlers in order with the data and the event name', () => {
  const bus = new Bus();
  const seen = [];
  bus.on('a', (data, name) => seen.push(['first', data.x, name]));
  bus.on('a', (data) => seen.push(['second', data.x]));
  bus.emit('a', { x: 1 });
  bus.emit('b', { x: 2 }); // nobody listens
  assert.deepEqual(seen, [['first', 1, 'a'], ['second', 1]]);
});

test('a context is the handler\'s this, as in hls.js', () => {
  const bus = new Bus();
  const ctl = { n: 0, onA() { this.n += 1; } };
  bus.on('a', ctl.onA, ctl);
  bus.emit('a');
  assert.equal(ctl.n, 1);
});

test('off removes one registration of the same (fn, context) pair, and only that', () => {
  const bus = new Bus();
  const a = { n: 0 };
  const b = { n: 0 };
  function count() { this.n += 1; }
  bus.on('e', count, a).on('e', count, b);
  bus.off('e', count, {}); // another context: nothing removed
  bus.off('e', () => {}, a); // another function: nothing removed
  assert.equal(bus.listenerCount('e'), 2);
  bus.off('e', count, a);
  bus.emit('e');
  assert.deepEqual([a.n, b.n], [0, 1]);
  bus.off('e', count, b);
  assert.equal(bus.listenerCount(), 0);
  assert.equal(bus.handlers.size, 0, 'an event with no handler left is forgotten');
});

test('the same handler registered twice needs two offs', () => {
  const bus = new Bus();
  let n = 0;
  const fn = () => { n += 1; };
  bus.on('e', fn).on('e', fn);
  bus.off('e', fn);
  bus.emit('e');
  assert.equal(n, 1);
  bus.off('e', fn);
  assert.equal(bus.listenerCount('e'), 0);
});

test('once fires once, then leaves the bus', () => {
  const bus = new Bus();
  let n = 0;
  bus.once('e', () => { n += 1; });
  assert.equal(bus.listenerCount('e'), 1);
  bus.emit('e');
  bus.emit('e');
  assert.equal(n, 1);
  assert.equal(bus.listenerCount(), 0);
});

test('a once handler can be removed with off before it fires', () => {
  const bus = new Bus();
  let n = 0;
  const fn = () => { n += 1; };
  bus.once('e', fn);
  bus.off('e', fn);
  bus.emit('e');
  assert.equal(n, 0);
});

test('a handler removed by an earlier one during emit is not called', () => {
  const bus = new Bus();
  const seen = [];
  const second = () => seen.push('second');
  bus.on('e', () => { seen.push('first'); bus.off('e', second); });
  bus.on('e', second);
  bus.emit('e');
  assert.deepEqual(seen, ['first']);
});

test('a handler added during emit waits for the next emit', () => {
  const bus = new Bus();
  const seen = [];
  bus.once('e', () => { seen.push('first'); bus.on('e', () => seen.push('added')); });
  bus.emit('e');
  bus.emit('e');
  assert.deepEqual(seen, ['first', 'added']);
});

test('a failing handler does not stop the others', (t) => {
  const bus = new Bus();
  t.mock.method(console, 'error', () => {});
  let reached = false;
  bus.on('e', () => { throw new Error('boom'); });
  bus.on('e', () => { reached = true; });
  bus.emit('e');
  assert.ok(reached);
  assert.equal(console.error.mock.calls.length, 1);
});

test('on and off refuse something that is not a function', () => {
  const bus = new Bus();
  assert.throws(() => bus.on('e', undefined), TypeError);
  assert.throws(() => bus.off('e'), TypeError, 'no "remove every handler": a controller removes its own');
});
