// Wires the controllers together; each owns one concern and they meet only on the bus.
import { Bus, Events } from './bus.js';
import { ChartController } from './chart.js';
import { EngineController } from './engine.js';
import { ErrorController } from './errors.js';
import { ExportController } from './export.js';
import { EventLogController } from './log.js';
import { LevelMenuController } from './menu.js';
import { OverlayController } from './overlay.js';
import { PlaybackController } from './playback.js';
import { SeekBarController } from './seekbar.js';
import { Pacer, ShapingController } from './shaping.js';
import { StateController } from './state.js';
import { StatsController } from './stats.js';
import { ThumbnailsController } from './thumbnails.js';

const config = JSON.parse(document.getElementById('hlskit-config').textContent);
const $ = (id) => document.getElementById(id);
const bus = new Bus();
const video = $('video');
video.loop = Boolean(config.loop);

const pacer = new Pacer();
const engine = new EngineController(bus, video, config, pacer);
const state = new StateController(bus, engine);
new ErrorController(bus, $('error'));
new EventLogController(bus, $('log'));
new LevelMenuController(bus, $('menu-buttons'), config.quality);
new PlaybackController(bus, video);
new StatsController(bus, $('stats'), $('switches'), state);
new OverlayController(bus, $('overlay'), $('overlay-toggle'), video);
new SeekBarController(bus, $('seek'), $('seek-fill'), video);
const thumbnails = new ThumbnailsController(bus, $('seek-preview'), $('seek-time'), config.src);
const chart = new ChartController(bus, $('chart'), state);
new ExportController($('export-json'), $('export-csv'), state, chart);
const shaping = new ShapingController(bus, $('shaping'), $('shaping-status'), pacer, config.shape);

let started = false;
const start = () => {
  if (!started) {
    started = true;
    engine.start();
  }
};

window.hlskitPlayer = {
  state: () => JSON.parse(JSON.stringify(state.state())),
  start, // with ?autostart=0, automation shapes the network first, then starts playback
  setLevel: (level) => bus.emit(Events.LEVEL_REQUEST, { level }),
  chart: () => JSON.parse(JSON.stringify(chart.points())),
  thumbnails: () => thumbnails.cues.map((c) => ({ ...c })), // the seek-bar previews as parsed
  shape: (profile) => { shaping.select.value = profile; shaping.apply(profile); }, // e.g. '700x20,0'
  bus,
};

if (config.tokenMinted) {
  bus.emit(Events.LOG, { name: 'token', text: 'minted by this server for local testing (not in production mode)' });
} else if (!config.token) {
  bus.emit(Events.LOG, { name: 'token', text: 'none given: keys are requested without a playback token' });
}
if (config.autostart) start();
