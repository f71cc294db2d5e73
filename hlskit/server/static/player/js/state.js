// StateController: keeps the record of everything that happened, for automation:
// window.hlskitPlayer.state() returns a plain JSON-able object.
import { Events, now } from './bus.js';

const MAX_EVENTS = 2000;

export class StateController {
  constructor(bus, engine) {
    this.engine = engine;
    this.levels = [];
    this.switches = [];      // the picture changed definition: {at, time, from, to, name, auto}
    this.switching = [];     // loading moved to a definition: {at, level, name}
    this.keys = [];          // {at, uri}
    this.fragments = [];     // {at, level, sn, bytes, ms}
    this.decrypted = 0;
    this.errors = [];        // {at, message, details, fatal, status, kind}
    this.stalls = [];        // {start, end, duration, time}
    this.events = [];        // {at, name}
    this.chosen = -1;
    this.firstFrameAt = null;
    this.shaping = [];       // {at, label, timeline}
    this.engineName = 'none';
    this.version = '';
    const record = (name, extra) => {
      this.events.push({ at: now(), name, ...extra });
      if (this.events.length > MAX_EVENTS) this.events.shift();
    };
    const nameOf = (level) => (this.levels[level] || {}).name || null;

    bus.on(Events.ENGINE_READY, ({ engine, version }) => { this.engineName = engine; this.version = version; record('engineReady', { engine }); });
    bus.on(Events.LEVELS, ({ levels }) => { this.levels = levels; record('manifestParsed', { count: levels.length }); });
    bus.on(Events.LEVEL_SWITCHING, ({ level }) => {
      this.switching.push({ at: now(), level, name: nameOf(level) });
      record('levelSwitching', { level });
    });
    bus.on(Events.LEVEL_SWITCHED, ({ at, from, to, auto }) => {
      this.switches.push({ at: at ?? now(), time: engine.video.currentTime, from, to, name: nameOf(to), auto });
      record('levelSwitched', { level: to });
    });
    bus.on(Events.LEVEL_REQUEST, ({ level }) => { this.chosen = level; record('levelRequest', { level }); });
    bus.on(Events.KEY_LOADED, ({ uri }) => { this.keys.push({ at: now(), uri }); record('keyLoaded', { uri }); });
    bus.on(Events.FRAG_LOADED, (f) => { this.fragments.push({ at: now(), ...f }); record('fragLoaded', { level: f.level, sn: f.sn }); });
    bus.on(Events.FRAG_DECRYPTED, ({ level, sn }) => { this.decrypted += 1; record('fragDecrypted', { level, sn }); });
    bus.on(Events.STALL, (s) => {
      if (s.end === undefined) this.stalls.push({ ...s, end: null, duration: null });
      else Object.assign(this.stalls[this.stalls.length - 1] || {}, s);
      record('stall', {});
    });
    bus.on(Events.ERROR, (e) => {
      this.errors.push({ at: now(), message: e.message, details: e.details, fatal: e.fatal, blocking: Boolean(e.blocking), status: e.status || 0, kind: e.kind || '' });
      record('error', { message: e.message });
    });
    bus.on(Events.FIRST_FRAME, ({ at }) => { this.firstFrameAt = at; record('firstFrame', {}); });
    bus.on(Events.SHAPING, (s) => { this.shaping.push(s); record('shaping', { label: s.label }); });
    bus.on(Events.LOG, ({ name }) => { if (name === 'playback started') record('playbackStarted', {}); });
  }

  state() {
    const m = this.engine.metrics();
    const def = this.levels[m.currentLevel];
    return {
      ...m,
      engine: this.engineName,
      hlsVersion: this.version,
      src: this.engine.config.src,
      levels: this.levels,
      currentDefinition: def ? def.name : null,
      chosenLevel: this.chosen,
      startedAt: this.engine.startedAt,    // page clock, s: the player was started
      firstFrameAt: this.firstFrameAt,     // page clock, s: the first frame was presented
      shaping: this.shaping,
      switches: this.switches,
      switching: this.switching,
      keys: this.keys,
      fragments: this.fragments,
      fragmentsDecrypted: this.decrypted,
      errors: this.errors,
      stalls: this.stalls,
      events: this.events,
    };
  }
}
