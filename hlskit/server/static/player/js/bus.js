// The player's controllers talk only through these named events, as hls.js's controllers do.
export const Events = Object.freeze({
  ENGINE_READY: 'engineReady',         // {engine: 'hls.js' | 'native', version}
  LEVELS: 'levels',                    // {count} — the levels store (levels.js) changed; read it there
  LEVEL_SWITCHING: 'levelSwitching',   // {level} — loading moves to a definition
  LEVEL_SWITCHED: 'levelSwitched',     // {at, from, to, auto} — the picture shows a definition
  LEVEL_REQUEST: 'levelRequest',       // {level} — the user picked a definition (-1 = Auto)
  MODE: 'mode',                        // {auto: bool}
  KEY_LOADED: 'keyLoaded',             // {uri}
  RENDITIONS: 'renditions',            // {kind: 'audio' | 'subtitles'} — the renditions store (renditions.js) changed
  RENDITION_REQUEST: 'renditionRequest', // {kind, id} — the user picked an audio or subtitle track (subtitles: -1 = off)
  RENDITION_SWITCHED: 'renditionSwitched', // {at, kind, from, to} — that track now plays (audio: in the buffer)
  FRAG_LOADED: 'fragLoaded',           // {at, type: 'main' | 'audio' | 'subtitle', level, sn, bytes, ms, url}
  FRAG_DECRYPTED: 'fragDecrypted',     // {type, level, sn}
  STALL: 'stall',                      // {start, end?, duration?}
  HLS_ERROR: 'hlsError',               // {data} — hls.js's own error record
  ERROR: 'error',                      // {message, details, fatal, status} — in plain words
  LOG: 'log',                          // {name, text}
  SHAPING: 'shaping',                  // {at, label, timeline: [{kbps, fromMs, toMs}]} — in-page pacing changed
  FIRST_FRAME: 'firstFrame',           // {at, startedAt} — the first video frame was presented
  SEEK_HOVER: 'seekHover',             // {time, x, width} — the pointer over the seek bar (time null: it left)
  THUMBNAILS: 'thumbnails',            // {url, count} — the package's seek-bar previews were loaded
});

// on/off/once take an optional context, as hls.js's EventEmitter does (hls.on(event, this.onX,
// this)), so a controller passes its own method and the same pair removes it: no bound copies to
// keep. Every controller's destroy() calls off() for each on() it made.
export class Bus {
  constructor() {
    this.handlers = new Map(); // name → [{fn, context, once}]
  }

  on(name, fn, context = undefined) {
    if (typeof fn !== 'function') throw new TypeError(`bus.on(${name}): the handler is not a function`);
    if (!this.handlers.has(name)) this.handlers.set(name, []);
    this.handlers.get(name).push({ fn, context, once: false });
    return this;
  }

  once(name, fn, context = undefined) {
    this.on(name, fn, context);
    const list = this.handlers.get(name);
    list[list.length - 1].once = true;
    return this;
  }

  // Removes one registration of (fn, context), the most recent. An unknown pair is a no-op, like
  // removeEventListener. There is no "remove all": a controller removes only what it added.
  off(name, fn, context = undefined) {
    if (typeof fn !== 'function') throw new TypeError(`bus.off(${name}): the handler is not a function`);
    const list = this.handlers.get(name);
    if (!list) return this;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].fn === fn && list[i].context === context) {
        list.splice(i, 1);
        break;
      }
    }
    if (!list.length) this.handlers.delete(name);
    return this;
  }

  // Handlers registered for `name`, or for every event without it (the teardown tests read this).
  listenerCount(name = undefined) {
    if (name !== undefined) return (this.handlers.get(name) || []).length;
    let n = 0;
    for (const list of this.handlers.values()) n += list.length;
    return n;
  }

  emit(name, data = {}) {
    const list = this.handlers.get(name);
    if (!list) return;
    // A copy, because a handler may call on/off (or a once handler leaves) while this loop runs;
    // a handler removed meanwhile is not called, as with DOM events.
    for (const h of [...list]) {
      const live = this.handlers.get(name);
      const at = live ? live.indexOf(h) : -1;
      if (at < 0) continue;
      if (h.once) {
        live.splice(at, 1);
        if (!live.length) this.handlers.delete(name);
      }
      try {
        h.fn.call(h.context, data, name);
      } catch (err) {
        console.error(`hlskit player: handler for ${name} failed`, err);
      }
    }
  }
}

// Seconds since the page started: one clock for every record the player keeps.
export const now = () => Math.round(performance.now()) / 1000;
