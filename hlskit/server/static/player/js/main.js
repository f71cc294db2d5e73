// Wires the controllers together; each owns one concern and they meet only on the bus.
//
// Lifecycle, as in hls.js: a controller registers its listeners (bus, DOM, hls.js) and timers
// when it is made, and destroy() unregisters exactly those. createPlayer() makes one set for one
// source; destroying it leaves the page as it was, so hlskitPlayer.load() can make the next one
// (a new source) and pagehide can end playback cleanly. The bus lives as long as the page: after
// a destroy it holds no handler, which is what the teardown test checks.
import { Bus, Events } from './bus.js';
import { ChartController } from './chart.js';
import { EngineController } from './engine.js';
import { ErrorController } from './errors.js';
import { ExportController } from './export.js';
import { LevelsStore } from './levels.js';
import { EventLogController } from './log.js';
import { LevelMenuController } from './menu.js';
import { OverlayController } from './overlay.js';
import { PlaybackController } from './playback.js';
import { AUDIO, OFF, RenditionsStore, SUBTITLES, pickTrack } from './renditions.js';
import { Ring } from './ring.js';
import { SeekBarController } from './seekbar.js';
import { Pacer, ShapingController } from './shaping.js';
import { StateController } from './state.js';
import { StatsController } from './stats.js';
import { ThumbnailsController } from './thumbnails.js';
import { RenditionMenuController } from './trackmenu.js';

const pageConfig = JSON.parse(document.getElementById('hlskit-config').textContent);
const $ = (id) => document.getElementById(id);
const bus = new Bus();
const video = $('video');

function createPlayer(config) {
  video.loop = Boolean(config.loop);
  $('src').textContent = config.src;
  $('src').title = config.src;
  const pacer = new Pacer();
  const levels = new LevelsStore(bus);
  const renditions = new RenditionsStore(bus);
  const engine = new EngineController(bus, video, config, pacer, levels, renditions);
  const state = new StateController(bus, engine, levels, renditions);
  // Made in this order, destroyed in the reverse one (the engine last).
  const controllers = { engine, state };
  controllers.errors = new ErrorController(bus, $('error'));
  controllers.log = new EventLogController(bus, $('log'), levels);
  controllers.menu = new LevelMenuController(bus, $('menu-buttons'), config.quality, levels);
  controllers.audioMenu = new RenditionMenuController(bus, $('audio-buttons'), renditions, AUDIO);
  controllers.subtitlesMenu = new RenditionMenuController(bus, $('subtitles-buttons'), renditions, SUBTITLES);
  controllers.playback = new PlaybackController(bus, video);
  controllers.stats = new StatsController(bus, $('stats'), $('switches'), state, levels);
  controllers.overlay = new OverlayController(bus, $('overlay'), $('overlay-toggle'), video, levels);
  controllers.seekbar = new SeekBarController(bus, $('seek'), $('seek-fill'), video);
  controllers.thumbnails = new ThumbnailsController(bus, $('seek-preview'), $('seek-time'), config.src);
  controllers.chart = new ChartController(bus, $('chart'), state, levels);
  controllers.export = new ExportController($('export-json'), $('export-csv'), state, controllers.chart);
  controllers.shaping = new ShapingController(bus, $('shaping'), $('shaping-status'), pacer, config.shape);

  let started = false;
  let destroyed = false;
  return {
    config,
    levels,
    renditions,
    controllers,
    get destroyed() { return destroyed; },
    start() {
      if (started || destroyed) return;
      started = true;
      engine.start();
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const c of Object.values(controllers).reverse()) c.destroy();
      levels.destroy();
      renditions.destroy();
    },
  };
}

// Bounded records of the live player ({"chart.samples": {length, cap, total}, ...}): the
// teardown test checks that more pushes than the cap leave a record at its cap.
function buffers(controllers) {
  const out = {};
  for (const [name, c] of Object.entries(controllers)) {
    for (const [field, value] of Object.entries(c)) {
      if (value instanceof Ring) out[`${name}.${field}`] = { length: value.length, cap: value.cap, total: value.total };
    }
  }
  return out;
}

function requestRendition(kind, wanted) {
  const id = pickTrack(player.renditions.all(kind), wanted);
  if (id === null || (id === OFF && kind !== SUBTITLES)) return null;
  bus.emit(Events.RENDITION_REQUEST, { kind, id });
  return id;
}

let player = null;
const open = (config) => {
  if (player) player.destroy();
  player = createPlayer(config);
};

window.hlskitPlayer = {
  state: () => JSON.parse(JSON.stringify(player.controllers.state.state())),
  start: () => player.start(), // with ?autostart=0, automation shapes the network first, then starts playback
  setLevel: (level) => bus.emit(Events.LEVEL_REQUEST, { level }),
  // An audio or subtitle track by language ('fr'), NAME ('Commentary') or id; setSubtitles('off').
  // Returns the id asked for, or null when nothing matches (nothing is then changed).
  setAudio: (wanted) => requestRendition(AUDIO, wanted),
  setSubtitles: (wanted) => requestRendition(SUBTITLES, wanted),
  chart: () => JSON.parse(JSON.stringify(player.controllers.chart.points())),
  thumbnails: () => player.controllers.thumbnails.cues.map((c) => ({ ...c })), // the seek-bar previews as parsed
  shape: (profile) => { const s = player.controllers.shaping; s.select.value = profile; s.apply(profile); }, // e.g. '700x20,0'
  // A new player for another source (the same one without arguments): the old one is destroyed
  // first. Another content id needs its own token; the quality labels were the page's source's.
  load: (src = player.config.src, token = src === player.config.src ? player.config.token : null) => {
    open({ ...pageConfig, src, token, quality: src === pageConfig.src ? pageConfig.quality : null });
    bus.emit(Events.LOG, { name: 'source', text: src });
    if (pageConfig.autostart) player.start();
  },
  destroy: () => player.destroy(),
  // What the live player holds: bus handlers per event, controllers with a timer, bounded records.
  debug: () => {
    const byEvent = {};
    for (const name of Object.values(Events)) {
      const n = bus.listenerCount(name);
      if (n) byEvent[name] = n;
    }
    const live = player.destroyed ? {} : player.controllers;
    return {
      destroyed: player.destroyed,
      listeners: bus.listenerCount(),
      byEvent,
      timers: Object.values(live).filter((c) => c.timer != null).length,
      buffers: buffers(live),
    };
  },
  controllers: () => player.controllers, // for the console and tests: the live controllers
  bus,
};

// pagehide, not unload: it also fires when the page goes into the back/forward cache, and an
// unload handler would keep it out of that cache. Back from the cache, a new player starts.
window.addEventListener('pagehide', () => player.destroy());
window.addEventListener('pageshow', (e) => {
  if (!e.persisted) return;
  open(player.config);
  if (pageConfig.autostart) player.start();
});

open(pageConfig);
if (pageConfig.tokenMinted) {
  bus.emit(Events.LOG, { name: 'token', text: 'minted by this server for local testing (not in production mode)' });
} else if (!pageConfig.token) {
  bus.emit(Events.LOG, { name: 'token', text: 'none given: keys are requested without a playback token' });
}
if (pageConfig.autostart) player.start();
