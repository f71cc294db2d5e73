// Ring: a list that keeps only its newest `cap` items, so a record kept for a whole session
// (chart points, the player's state, the event log) stays the same size however long it plays.
// push is O(1): the oldest slot is overwritten instead of shifting the array.
export class Ring {
  constructor(cap) {
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`Ring: cap must be a positive integer, not ${cap}`);
    this.cap = cap;
    this.items = [];
    this.head = 0;   // index of the oldest item once the ring is full
    this.total = 0;  // items ever pushed: tells readers how many are new since they last looked
  }

  get length() {
    return this.items.length;
  }

  push(item) {
    if (this.items.length < this.cap) this.items.push(item);
    else {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.cap;
    }
    this.total += 1;
    return item;
  }

  // i-th oldest kept item; negative counts from the newest (at(-1) is the last), as Array.at.
  at(i) {
    const n = this.items.length;
    const k = i < 0 ? n + i : i;
    if (k < 0 || k >= n) return undefined;
    return this.items[(this.head + k) % n];
  }

  last() {
    return this.at(-1);
  }

  includes(item) {
    return this.items.includes(item);
  }

  // The items pushed after the first `seen` of `total`, oldest first (those already dropped are gone).
  since(seen) {
    const fresh = Math.min(Math.max(this.total - seen, 0), this.items.length);
    return this.toArray().slice(this.items.length - fresh);
  }

  toArray() {
    return this.head ? [...this.items.slice(this.head), ...this.items.slice(0, this.head)] : [...this.items];
  }

  // total is kept: a reader that counted pushes sees nothing new until the next push.
  clear() {
    this.items = [];
    this.head = 0;
  }

  [Symbol.iterator]() {
    return this.toArray()[Symbol.iterator]();
  }
}
