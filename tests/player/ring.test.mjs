import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from './player.mjs';

const { Ring } = await load('ring.js');

test('a ring keeps its newest cap items, oldest first, however many are pushed', () => {
  const ring = new Ring(5);
  for (let i = 0; i < 10_000; i++) ring.push(i);
  assert.equal(ring.length, 5);
  assert.deepEqual(ring.toArray(), [9995, 9996, 9997, 9998, 9999]);
  assert.deepEqual([...ring], [9995, 9996, 9997, 9998, 9999]);
  assert.equal(ring.total, 10_000);
  assert.equal(ring.items.length, 5, 'the storage itself never grows past the cap');
});

test('below its cap a ring is a plain list', () => {
  const ring = new Ring(4);
  ring.push('a');
  ring.push('b');
  assert.deepEqual(ring.toArray(), ['a', 'b']);
  assert.equal(ring.at(0), 'a');
  assert.equal(ring.last(), 'b');
  assert.equal(ring.at(2), undefined);
});

test('at counts from the oldest, negative from the newest, across the wrap', () => {
  const ring = new Ring(3);
  for (const x of 'abcde') ring.push(x); // keeps c d e
  assert.deepEqual([ring.at(0), ring.at(1), ring.at(2)], ['c', 'd', 'e']);
  assert.deepEqual([ring.at(-1), ring.at(-3)], ['e', 'c']);
  assert.equal(ring.at(3), undefined);
  assert.equal(ring.at(-4), undefined);
  assert.equal(ring.last(), 'e');
  assert.ok(ring.includes('d') && !ring.includes('a'));
});

test('since(seen) gives what was pushed after a reader last looked, even past the cap', () => {
  const ring = new Ring(3);
  ring.push(1);
  ring.push(2);
  let seen = ring.total;
  assert.deepEqual(ring.since(seen), []);
  ring.push(3);
  ring.push(4);
  assert.deepEqual(ring.since(seen), [3, 4]);
  seen = ring.total;
  for (let i = 5; i <= 9; i++) ring.push(i); // five new ones, only three kept
  assert.deepEqual(ring.since(seen), [7, 8, 9]);
});

test('clear empties the ring but keeps the count of pushes', () => {
  const ring = new Ring(2);
  ring.push(1);
  ring.push(2);
  ring.push(3);
  ring.clear();
  assert.equal(ring.length, 0);
  assert.deepEqual(ring.toArray(), []);
  assert.equal(ring.total, 3);
  ring.push(4);
  assert.deepEqual(ring.toArray(), [4]);
});

test('a ring needs a positive whole cap', () => {
  for (const cap of [0, -1, 1.5, NaN, undefined]) assert.throws(() => new Ring(cap), RangeError);
});
