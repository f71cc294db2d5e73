// The player's controllers talk only through these named events, as hls.js's controllers do.
export const Events = Object.freeze({
  ENGINE_READY: 'engineReady',         // {engine: 'hls.js' | 'native', version}
  LEVELS: 'levels',                    // {levels: [Definition]}
  LEVEL_SWITCHING: 'levelSwitching',   // {level} — loading moves to a definition
  LEVEL_SWITCHED: 'levelSwitched',     // {at, from, to, auto} — the picture shows a definition
  LEVEL_REQUEST: 'levelRequest',       // {level} — the user picked a definition (-1 = Auto)
  MODE: 'mode',                        // {auto: bool}
  KEY_LOADED: 'keyLoaded',             // {uri}
  FRAG_LOADED: 'fragLoaded',           // {at, level, sn, bytes, ms}
  FRAG_DECRYPTED: 'fragDecrypted',     // {level, sn}
  STALL: 'stall',                      // {start, end?, duration?}
  HLS_ERROR: 'hlsError',               // {data} — hls.js's own error record
  ERROR: 'error',                      // {message, details, fatal, status} — in plain words
  LOG: 'log',                          // {name, text}
  SHAPING: 'shaping',                  // {at, label, timeline: [{kbps, fromMs, toMs}]} — in-page pacing changed
  FIRST_FRAME: 'firstFrame',           // {at, startedAt} — the first video frame was presented
  SEEK_HOVER: 'seekHover',             // {time, x, width} — the pointer over the seek bar (time null: it left)
  THUMBNAILS: 'thumbnails',            // {url, count} — the package's seek-bar previews were loaded
});

export class Bus {
  constructor() {
    this.handlers = new Map();
  }

  on(name, fn) {
    if (!this.handlers.has(name)) this.handlers.set(name, []);
    this.handlers.get(name).push(fn);
  }

  emit(name, data = {}) {
    for (const fn of this.handlers.get(name) || []) {
      try {
        fn(data, name);
      } catch (err) {
        console.error(`hlskit player: handler for ${name} failed`, err);
      }
    }
  }
}

// Seconds since the page started: one clock for every record the player keeps.
export const now = () => Math.round(performance.now()) / 1000;
