// EngineController: attaches hls.js (or the browser's native HLS) to the video element and turns
// what the engine reports into the player's named events. It is the only module touching hls.js.
import { Events, now } from './bus.js';
import { describeLevels } from './levels.js';
import { hlsAuthConfig, withToken } from './auth.js';
import { pacedLoader } from './shaping.js';
import { Ring } from './ring.js';
import { HlsTracks } from './tracks.js';

// KEY_LOADED and FRAG_DECRYPTED/FRAG_BUFFERED repeat for the same key or fragment; only the
// recent ones need remembering to report each once (a fragment's events come within seconds).
const RECENT_KEYS = 256;
const RECENT_FRAGMENTS = 256;

export class EngineController {
  constructor(bus, video, config, pacer, levels, renditions) {
    this.bus = bus;
    this.pacer = pacer;
    this.levels = levels;
    this.renditions = renditions; // RenditionsStore, filled by this.tracks (tracks.js)
    this.tracks = null;
    this.startedAt = null;
    this.video = video;
    this.config = config;
    this.hls = null;
    this.Hls = null;
    this.engine = 'none';
    this.mediaRecoveries = 0;
    this.lastPlaying = -1;
    this.keys = new Ring(RECENT_KEYS);
    this.decrypted = new Ring(RECENT_FRAGMENTS);
    this.registerListeners();
  }

  registerListeners() {
    this.bus.on(Events.LEVEL_REQUEST, this.onLevelRequest, this);
    this.bus.on(Events.ERROR, this.onError, this);
  }

  unregisterListeners() {
    this.bus.off(Events.LEVEL_REQUEST, this.onLevelRequest, this);
    this.bus.off(Events.ERROR, this.onError, this);
  }

  onLevelRequest({ level }) {
    this.setLevel(level);
  }

  // A refused key will not be granted on retry: stop asking the key service.
  onError({ blocking }) {
    if (blocking && this.hls) this.hls.stopLoad();
  }

  start() {
    this.startedAt = now();
    const Hls = window.Hls;
    const forceNative = this.config.engine === 'native';
    if (Hls && Hls.isSupported() && !forceNative) return this.startHls(Hls);
    if (this.video.canPlayType('application/vnd.apple.mpegurl')) return this.startNative();
    this.bus.emit(Events.ERROR, {
      message: 'this browser can play HLS neither through Media Source Extensions nor natively',
      details: 'Hls.isSupported() is false and canPlayType("application/vnd.apple.mpegurl") is empty',
      fatal: true,
    });
  }

  startHls(Hls) {
    const { src, token, maxBufferLength, abrEwma } = this.config;
    // ewma=FAST,SLOW on the page URL tunes how fast hls.js trusts a changed network.
    const ewma = abrEwma ? {
      abrEwmaFastVoD: abrEwma[0], abrEwmaSlowVoD: abrEwma[1], abrEwmaFastLive: abrEwma[0], abrEwmaSlowLive: abrEwma[1],
    } : {};
    const hls = new Hls({
      ...hlsAuthConfig(token),
      ...ewma,
      // In-page network shaping (shaping.js) paces fragment loads; without a profile it passes through.
      fLoader: pacedLoader(Hls.DefaultConfig.loader, this.pacer),
      // A short forward buffer lets a definition change reach the picture within seconds,
      // which is what a test player is for (hls.js's default is 30 s).
      maxBufferLength: maxBufferLength || 8,
      maxMaxBufferLength: maxBufferLength || 8,
      // WebVTT renditions become the video's text tracks and the selected one is 'showing', so
      // the browser draws the cues over the picture (hls.js's defaults, stated because the
      // subtitles menu relies on them).
      renderTextTracksNatively: true,
      subtitleDisplay: true,
    });
    this.hls = hls;
    this.Hls = Hls;
    this.engine = 'hls.js';
    window.hlskitHls = hls; // for people poking at it in the console
    this.bus.emit(Events.ENGINE_READY, { engine: 'hls.js', version: Hls.version });
    this.registerHlsListeners();
    // Before loadSource: it must hear MANIFEST_PARSED to apply ?audio= and ?subtitles=.
    if (this.renditions) {
      this.tracks = new HlsTracks(this.bus, hls, Hls, this.renditions, { audio: this.config.audio, subtitles: this.config.subtitles });
    }
    hls.loadSource(src);
    hls.attachMedia(this.video);
  }

  // The hls.js events this controller turns into the player's, paired with their removal.
  hlsHandlers() {
    const E = this.Hls.Events;
    return [
      [E.MANIFEST_PARSED, this.onManifestParsed],
      [E.LEVEL_SWITCHING, this.onLevelSwitching],
      [E.LEVEL_SWITCHED, this.onLevelSwitched],
      [E.KEY_LOADED, this.onKeyLoaded],
      [E.FRAG_LOADED, this.onFragLoaded],
      [E.FRAG_DECRYPTED, this.onFragDecrypted],
      [E.FRAG_BUFFERED, this.onFragBuffered],
      [E.ERROR, this.onHlsError],
    ];
  }

  registerHlsListeners() {
    for (const [event, fn] of this.hlsHandlers()) this.hls.on(event, fn, this);
  }

  unregisterHlsListeners() {
    for (const [event, fn] of this.hlsHandlers()) this.hls.off(event, fn, this);
  }

  log(name, text) {
    this.bus.emit(Events.LOG, { name, text });
  }

  onManifestParsed() {
    this.levels.set(describeLevels(this.hls.levels));
    const names = this.levels.all().map((l) => l.name);
    this.log('manifest parsed', `${names.length} definition(s): ${names.join(', ')}`);
    this.bus.emit(Events.MODE, { auto: this.hls.autoLevelEnabled });
  }

  onLevelSwitching(_, data) {
    this.bus.emit(Events.LEVEL_SWITCHING, { level: data.level });
  }

  onLevelSwitched(_, data) {
    const from = this.lastPlaying;
    this.lastPlaying = data.level;
    this.bus.emit(Events.LEVEL_SWITCHED, { at: now(), from, to: data.level, auto: this.hls.autoLevelEnabled });
  }

  // KEY_LOADED fires for every fragment; the key itself is fetched once per URI.
  onKeyLoaded(_, data) {
    const uri = (data.keyInfo && data.keyInfo.decryptdata ? data.keyInfo.decryptdata.uri : '').split('?')[0];
    if (this.keys.includes(uri)) return;
    this.keys.push(uri);
    this.bus.emit(Events.KEY_LOADED, { uri });
  }

  // type: 'main' (a definition's video, and its audio when muxed), 'audio' (an audio rendition;
  // level is then the audio track's id) or 'subtitle'. url without its query, which may carry a token.
  onFragLoaded(_, data) {
    const { frag } = data;
    const stats = frag.stats || data.stats || {};
    const ms = stats.loading ? stats.loading.end - stats.loading.start : 0;
    const url = String(frag.url || '').split('?')[0];
    this.bus.emit(Events.FRAG_LOADED, { at: now(), type: frag.type || 'main', level: frag.level, sn: frag.sn, bytes: stats.loaded || 0, ms, url });
  }

  // hls.js 1.7 decrypts media segments inside its transmuxer and fires FRAG_DECRYPTED only for
  // init segments; an AES-128 fragment that reached the buffer was decrypted (the TS demuxer
  // cannot parse ciphertext), so both count, once per fragment.
  onFragDecrypted(_, data) {
    this.decryptedOnce(data.frag);
  }

  onFragBuffered(_, data) {
    if (data.frag.encrypted) this.decryptedOnce(data.frag);
  }

  decryptedOnce(frag) {
    const id = `${frag.type}:${frag.level}:${frag.sn}`; // audio and video fragments share sn and level numbers
    if (this.decrypted.includes(id)) return;
    this.decrypted.push(id);
    const method = frag.decryptdata ? frag.decryptdata.method : '';
    this.bus.emit(Events.FRAG_DECRYPTED, { type: frag.type || 'main', level: frag.level, sn: frag.sn, method });
  }

  onHlsError(_, data) {
    const Hls = this.Hls;
    this.bus.emit(Events.HLS_ERROR, { data });
    if (!data.fatal) return;
    // Media errors can often be recovered; a refused key or a missing playlist cannot.
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && this.mediaRecoveries < 2) {
      this.mediaRecoveries += 1;
      this.bus.emit(Events.LOG, { name: 'recovering', text: 'trying to recover from a media error' });
      this.hls.recoverMediaError();
      return;
    }
    this.hls.stopLoad();
  }

  startNative() {
    const { src, token } = this.config;
    this.engine = 'native';
    this.bus.emit(Events.ENGINE_READY, { engine: 'native', version: '' });
    this.video.addEventListener('loadedmetadata', this.onNativeMetadata);
    this.video.addEventListener('error', this.onNativeError);
    this.video.src = withToken(src, token);
  }

  // Arrow fields: one stable function each, so removeEventListener gets the one that was added.
  onNativeMetadata = () => {
    this.log('manifest parsed', 'native HLS: the browser picks definitions itself');
    this.levels.set([]);
  };

  onNativeError = () => {
    const err = this.video.error;
    this.bus.emit(Events.ERROR, {
      message: 'the browser could not play the stream (native HLS gives no details; a refused key looks the same)',
      details: err ? `MediaError code ${err.code}: ${err.message || ''}` : 'MediaError',
      fatal: true,
    });
  };

  // Undoes start() and the constructor: hls.js stops loading, detaches (it empties the video
  // element's source) and drops its own timers and workers; native playback is unloaded.
  destroy() {
    this.unregisterListeners();
    if (this.tracks) {
      this.tracks.destroy();
      this.tracks = null;
    }
    if (this.hls) {
      this.unregisterHlsListeners();
      this.hls.destroy();
      if (window.hlskitHls === this.hls) delete window.hlskitHls;
      this.hls = null;
    }
    if (this.engine === 'native') {
      this.video.removeEventListener('loadedmetadata', this.onNativeMetadata);
      this.video.removeEventListener('error', this.onNativeError);
      this.video.removeAttribute('src');
      this.video.load(); // aborts the download (HTML "media element load algorithm")
    }
    this.engine = 'none';
  }

  setLevel(level) {
    if (!this.hls) return;
    if (level < 0) {
      this.hls.nextLevel = -1; // back to Auto without flushing what is buffered
    } else {
      this.hls.currentLevel = level; // switch now: flush and reload at this definition
    }
    this.bus.emit(Events.MODE, { auto: level < 0 });
    this.bus.emit(Events.LOG, { name: 'definition chosen', text: level < 0 ? 'Auto' : `level ${level}` });
  }

  // Figures the stats panel and automation read; everything here is cheap to compute.
  metrics() {
    const v = this.video;
    const hls = this.hls;
    let ahead = 0;
    for (let i = 0; i < v.buffered.length; i++) {
      if (v.buffered.start(i) <= v.currentTime + 0.1 && v.buffered.end(i) > v.currentTime) {
        ahead = v.buffered.end(i) - v.currentTime;
      }
    }
    const quality = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
    return {
      engine: this.engine,
      at: now(),
      currentTime: v.currentTime,
      duration: Number.isFinite(v.duration) ? v.duration : null,
      paused: v.paused,
      ended: v.ended,
      readyState: v.readyState,
      bufferAhead: ahead,
      videoWidth: v.videoWidth,
      videoHeight: v.videoHeight,
      droppedFrames: quality ? quality.droppedVideoFrames : null,
      totalFrames: quality ? quality.totalVideoFrames : null,
      currentLevel: hls ? hls.currentLevel : -1,
      nextLevel: hls ? hls.nextLevel : -1,
      loadLevel: hls ? hls.loadLevel : -1,
      autoLevelEnabled: hls ? hls.autoLevelEnabled : true,
      bandwidthEstimate: hls && Number.isFinite(hls.bandwidthEstimate) ? Math.round(hls.bandwidthEstimate) : null,
      subtitlesShown: shownCues(v),
    };
  }
}

// The subtitle lines on the picture now: the active cues of the text tracks the browser shows
// ('showing'; a 'hidden' track's cues are loaded but not drawn).
function shownCues(video) {
  const out = [];
  const tracks = video.textTracks || [];
  for (let i = 0; i < tracks.length; i++) {
    const t = tracks[i];
    if (t.mode !== 'showing' || !t.activeCues) continue;
    for (let j = 0; j < t.activeCues.length; j++) out.push(t.activeCues[j].text);
  }
  return out;
}
