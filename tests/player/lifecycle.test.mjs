// Every controller's destroy() undoes what its constructor (and start) registered: bus handlers,
// DOM listeners and timers. The elements here are EventTargets that count their listeners; the
// browser test (tests/browser/test_player_teardown.py) checks the same on the real page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from './player.mjs';

// Live timers, counted by wrapping the globals before any controller is made. unref(): a timer
// a controller forgot must fail its test, not keep this process (and the test run) alive.
const live = { intervals: new Set(), timeouts: new Set() };
const { setInterval: si, clearInterval: ci, setTimeout: st, clearTimeout: ct } = globalThis;
globalThis.setInterval = (fn, ms, ...a) => { const id = si(fn, ms, ...a).unref(); live.intervals.add(id); return id; };
globalThis.clearInterval = (id) => { live.intervals.delete(id); ci(id); };
globalThis.setTimeout = (fn, ms, ...a) => { const id = st(() => { live.timeouts.delete(id); fn(...a); }, ms).unref(); live.timeouts.add(id); return id; };
globalThis.clearTimeout = (id) => { live.timeouts.delete(id); ct(id); };

// An element that knows its listeners: type → set of functions, as the DOM dedupes them.
class Element extends EventTarget {
  constructor(extra = {}) {
    super();
    this.registered = new Map();
    this.children = [];
    this.style = {};
    this.dataset = {};
    this.hidden = false;
    this.textContent = '';
    this.classList = { toggle() {} };
    Object.assign(this, extra);
  }

  addEventListener(type, fn, options) {
    if (!this.registered.has(type)) this.registered.set(type, new Set());
    this.registered.get(type).add(fn);
    super.addEventListener(type, fn, options);
  }

  removeEventListener(type, fn, options) {
    const set = this.registered.get(type);
    if (set) set.delete(fn);
    super.removeEventListener(type, fn, options);
  }

  get listenerCount() {
    let n = 0;
    for (const set of this.registered.values()) n += set.size;
    return n;
  }

  append(...nodes) { this.children.push(...nodes); }
  replaceChildren(...nodes) { this.children = nodes; }
  querySelector() { return new Element(); }
  querySelectorAll() { return []; }
  closest() { return this.nav || (this.nav = new Element()); }
  setAttribute() {}
  getContext() { return { clearRect() {} }; }
}

globalThis.location ??= { href: 'http://127.0.0.1:8000/play/abr' };
globalThis.document ??= { createElement: () => new Element() };
globalThis.localStorage ??= { getItem: () => null, setItem() {} };
// The thumbnails track never answers here; an abort must end the request.
live.fetches = new Set();
globalThis.fetch = (url, { signal }) => new Promise((_, reject) => {
  const request = { url };
  live.fetches.add(request);
  signal.addEventListener('abort', () => { live.fetches.delete(request); reject(new Error('aborted')); });
});

const { Bus } = await load('bus.js');
const { LevelsStore } = await load('levels.js');
const { RenditionsStore } = await load('renditions.js');
const { EngineController } = await load('engine.js');
const { StateController } = await load('state.js');
const { ErrorController } = await load('errors.js');
const { EventLogController } = await load('log.js');
const { LevelMenuController } = await load('menu.js');
const { PlaybackController } = await load('playback.js');
const { StatsController } = await load('stats.js');
const { OverlayController } = await load('overlay.js');
const { SeekBarController } = await load('seekbar.js');
const { ThumbnailsController } = await load('thumbnails.js');
const { ChartController } = await load('chart.js');
const { ExportController } = await load('export.js');
const { Pacer, ShapingController } = await load('shaping.js');
const { RenditionMenuController } = await load('trackmenu.js');

const video = () => new Element({ currentTime: 0, duration: NaN, buffered: { length: 0 }, requestVideoFrameCallback: () => 7, cancelVideoFrameCallback() {} });

// Each maker builds one controller as main.js does, with its own elements.
const MAKERS = {
  engine: (bus, el, levels) => new EngineController(bus, el.video, { src: '/media/abr/master.m3u8' }, new Pacer(), levels, new RenditionsStore(bus)),
  state: (bus, el, levels) => new StateController(bus, { video: el.video, metrics: () => ({}), config: {} }, levels, new RenditionsStore(bus)),
  errors: (bus, el) => new ErrorController(bus, el.root),
  log: (bus, el, levels) => new EventLogController(bus, el.root, levels),
  menu: (bus, el, levels) => new LevelMenuController(bus, el.root, null, levels),
  audioMenu: (bus, el) => new RenditionMenuController(bus, el.root, new RenditionsStore(bus), 'audio'),
  subtitlesMenu: (bus, el) => new RenditionMenuController(bus, el.root, new RenditionsStore(bus), 'subtitles'),
  playback: (bus, el) => new PlaybackController(bus, el.video),
  stats: (bus, el, levels) => new StatsController(bus, el.root, el.other, { switches: null }, levels),
  overlay: (bus, el, levels) => new OverlayController(bus, el.root, el.other, el.video, levels),
  seekbar: (bus, el) => new SeekBarController(bus, el.root, el.other, el.video),
  thumbnails: (bus, el) => new ThumbnailsController(bus, el.root, el.other, '/media/abr/master.m3u8'),
  chart: (bus, el, levels) => new ChartController(bus, el.root, null, levels),
  export: (bus, el) => new ExportController(el.root, el.other, null, null),
  shaping: (bus, el) => new ShapingController(bus, el.root, el.other, new Pacer(), '700x20,0'),
};

for (const [name, make] of Object.entries(MAKERS)) {
  test(`${name}: destroy() unregisters everything the controller registered`, (t) => {
    t.mock.method(console, 'error', () => {}); // a handler that fails must not pass silently below
    const bus = new Bus();
    const levels = new LevelsStore(bus);
    const el = { root: new Element(), other: new Element(), video: video() };
    const before = { intervals: live.intervals.size, timeouts: live.timeouts.size, fetches: live.fetches.size };
    const controller = make(bus, el, levels);
    const registered = bus.listenerCount() + el.root.listenerCount + el.other.listenerCount + el.video.listenerCount
      + live.intervals.size - before.intervals + live.fetches.size - before.fetches;
    assert.ok(registered > 0, `${name} registers something (else this test proves nothing)`);
    controller.destroy();
    assert.deepEqual(
      { bus: bus.listenerCount(), root: el.root.listenerCount, other: el.other.listenerCount, video: el.video.listenerCount },
      { bus: 0, root: 0, other: 0, video: 0 },
    );
    assert.equal(live.intervals.size, before.intervals, 'no interval left running');
    assert.equal(live.timeouts.size, before.timeouts, 'no timeout left pending');
    assert.equal(live.fetches.size, before.fetches, 'no request left open');
    assert.equal(console.error.mock.calls.length, 0, 'no handler failed');
  });
}

test('a destroyed controller no longer hears the bus', () => {
  const bus = new Bus();
  const levels = new LevelsStore(bus);
  const state = MAKERS.state(bus, { video: video() }, levels);
  bus.emit('fragLoaded', { level: 0, sn: 1 });
  state.destroy();
  bus.emit('fragLoaded', { level: 0, sn: 2 });
  assert.deepEqual(state.fragments.toArray().map((f) => f.sn), [1]);
});

test('the player\'s record stays at its caps after more events than the caps', async () => {
  const { MAX_FRAGMENTS, MAX_EVENTS } = await load('state.js');
  const bus = new Bus();
  const levels = new LevelsStore(bus);
  const state = MAKERS.state(bus, { video: video() }, levels);
  const n = MAX_FRAGMENTS + 500;
  for (let sn = 0; sn < n; sn++) bus.emit('fragLoaded', { at: sn, level: 0, sn });
  assert.equal(state.fragments.length, MAX_FRAGMENTS);
  assert.equal(state.events.length, MAX_EVENTS);
  assert.equal(state.fragments.at(0).sn, n - MAX_FRAGMENTS, 'the oldest went first');
  assert.equal(state.fragments.last().sn, n - 1);
  state.destroy();
});
