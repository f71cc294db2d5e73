// StateController: keeps the record of everything that happened, for automation:
// window.hlskitPlayer.state() returns a plain JSON-able object.
import { Events, now } from './bus.js';
import { Ring } from './ring.js';
import { AUDIO, SUBTITLES } from './renditions.js';

// Each list keeps only its newest entries, so a player left running for hours keeps a flat
// memory. FRAGMENTS: two hours of 2 s segments; the rest are rarer than fragments.
export const MAX_EVENTS = 2000;
export const MAX_FRAGMENTS = 3600;
export const MAX_RECORDS = 1000;

export class StateController {
  constructor(bus, engine, levels, renditions) {
    this.bus = bus;
    this.engine = engine;
    this.levels = levels;
    this.renditions = renditions; // RenditionsStore: audio and subtitle tracks, and which plays
    this.switches = new Ring(MAX_RECORDS);   // the picture changed definition: {at, time, from, to, name, auto}
    this.switching = new Ring(MAX_RECORDS);  // loading moved to a definition: {at, level, name}
    this.keys = new Ring(MAX_RECORDS);       // {at, uri}
    this.fragments = new Ring(MAX_FRAGMENTS); // {at, level, sn, bytes, ms}
    this.decrypted = 0;
    this.errors = new Ring(MAX_RECORDS);     // {at, message, details, fatal, status, kind}
    this.stalls = new Ring(MAX_RECORDS);     // {start, end, duration, time}
    this.events = new Ring(MAX_EVENTS);      // {at, name}
    this.shaping = new Ring(MAX_RECORDS);    // {at, label, timeline}
    this.renditionSwitches = new Ring(MAX_RECORDS); // {at, time, kind, from, to, lang, name}
    this.chosen = -1;
    this.firstFrameAt = null;
    this.engineName = 'none';
    this.version = '';
    this.registerListeners();
  }

  // Event name → handler method; registerListeners and unregisterListeners walk the same table.
  handlers() {
    return [
      [Events.ENGINE_READY, this.onEngineReady],
      [Events.LEVELS, this.onLevels],
      [Events.LEVEL_SWITCHING, this.onLevelSwitching],
      [Events.LEVEL_SWITCHED, this.onLevelSwitched],
      [Events.LEVEL_REQUEST, this.onLevelRequest],
      [Events.RENDITION_REQUEST, this.onRenditionRequest],
      [Events.RENDITION_SWITCHED, this.onRenditionSwitched],
      [Events.KEY_LOADED, this.onKeyLoaded],
      [Events.FRAG_LOADED, this.onFragLoaded],
      [Events.FRAG_DECRYPTED, this.onFragDecrypted],
      [Events.STALL, this.onStall],
      [Events.ERROR, this.onError],
      [Events.FIRST_FRAME, this.onFirstFrame],
      [Events.SHAPING, this.onShaping],
      [Events.LOG, this.onLog],
    ];
  }

  registerListeners() {
    for (const [name, fn] of this.handlers()) this.bus.on(name, fn, this);
  }

  unregisterListeners() {
    for (const [name, fn] of this.handlers()) this.bus.off(name, fn, this);
  }

  destroy() {
    this.unregisterListeners();
  }

  record(name, extra) {
    this.events.push({ at: now(), name, ...extra });
  }

  onEngineReady({ engine, version }) {
    this.engineName = engine;
    this.version = version;
    this.record('engineReady', { engine });
  }

  onLevels({ count }) {
    this.record('manifestParsed', { count });
  }

  onLevelSwitching({ level }) {
    this.switching.push({ at: now(), level, name: this.levels.nameOf(level) });
    this.record('levelSwitching', { level });
  }

  onLevelSwitched({ at, from, to, auto }) {
    this.switches.push({ at: at ?? now(), time: this.engine.video.currentTime, from, to, name: this.levels.nameOf(to), auto });
    this.record('levelSwitched', { level: to });
  }

  onLevelRequest({ level }) {
    this.chosen = level;
    this.record('levelRequest', { level });
  }

  onRenditionRequest({ kind, id }) {
    this.record('renditionRequest', { kind, id });
  }

  onRenditionSwitched({ at, kind, from, to }) {
    const t = this.renditions.current(kind);
    this.renditionSwitches.push({ at, time: this.engine.video.currentTime, kind, from, to, lang: t ? t.lang : null, name: t ? t.name : null });
    this.record('renditionSwitched', { kind, id: to });
  }

  onKeyLoaded({ uri }) {
    this.keys.push({ at: now(), uri });
    this.record('keyLoaded', { uri });
  }

  onFragLoaded(f) {
    this.fragments.push({ at: now(), ...f });
    this.record('fragLoaded', { type: f.type, level: f.level, sn: f.sn });
  }

  onFragDecrypted({ level, sn }) {
    this.decrypted += 1;
    this.record('fragDecrypted', { level, sn });
  }

  // A stall is opened (no end) and later closed by a second event carrying its end.
  onStall(s) {
    if (s.end === undefined) this.stalls.push({ ...s, end: null, duration: null });
    else Object.assign(this.stalls.last() || {}, s);
    this.record('stall', {});
  }

  onError(e) {
    this.errors.push({ at: now(), message: e.message, details: e.details, fatal: e.fatal, blocking: Boolean(e.blocking), status: e.status || 0, kind: e.kind || '' });
    this.record('error', { message: e.message });
  }

  onFirstFrame({ at }) {
    this.firstFrameAt = at;
    this.record('firstFrame', {});
  }

  onShaping(s) {
    this.shaping.push(s);
    this.record('shaping', { label: s.label });
  }

  onLog({ name }) {
    if (name === 'playback started') this.record('playbackStarted', {});
  }

  // The figures of this moment without the records: what the panel and the chart read twice a
  // second, so they do not copy every record each time.
  current() {
    const m = this.engine.metrics();
    const def = this.levels.at(m.currentLevel);
    const audio = this.renditions.current(AUDIO);
    const subtitles = this.renditions.current(SUBTITLES);
    return {
      ...m,
      engine: this.engineName,
      hlsVersion: this.version,
      currentDefinition: def ? def.name : null,
      // The rendition playing now: -1 / null with muxed audio or with subtitles off.
      audioTrack: this.renditions.selectedId(AUDIO),
      audio: audio ? { lang: audio.lang, name: audio.name } : null,
      subtitleTrack: this.renditions.selectedId(SUBTITLES),
      subtitles: subtitles ? { lang: subtitles.lang, name: subtitles.name, forced: subtitles.forced } : null,
    };
  }

  state() {
    return {
      ...this.current(),
      src: this.engine.config.src,
      levels: this.levels.all(),
      audioTracks: this.renditions.all(AUDIO),
      subtitleTracks: this.renditions.all(SUBTITLES),
      renditionSwitches: this.renditionSwitches.toArray(),
      chosenLevel: this.chosen,
      startedAt: this.engine.startedAt,    // page clock, s: the player was started
      firstFrameAt: this.firstFrameAt,     // page clock, s: the first frame was presented
      shaping: this.shaping.toArray(),
      switches: this.switches.toArray(),
      switching: this.switching.toArray(),
      keys: this.keys.toArray(),
      fragments: this.fragments.toArray(),
      fragmentsDecrypted: this.decrypted,
      errors: this.errors.toArray(),
      stalls: this.stalls.toArray(),
      events: this.events.toArray(),
    };
  }
}
