// HlsTracks: the engine's half for renditions. It turns hls.js's audio and subtitle track events
// into the RenditionsStore and the player's events, applies ?audio= / ?subtitles= before anything
// is loaded, and carries out a menu's request. Like engine.js, which makes and destroys it, it is
// allowed to touch hls.js; nothing else is.
import { Events, now } from './bus.js';
import { AUDIO, OFF, SUBTITLES, describeTracks, pickTrack, trackLabel } from './renditions.js';

export class HlsTracks {
  // prefs: {audio, subtitles} as the page URL gave them (a language, a NAME, an id, or 'off').
  constructor(bus, hls, Hls, store, prefs = {}) {
    this.bus = bus;
    this.hls = hls;
    this.Hls = Hls;
    this.store = store;
    this.prefs = prefs;
    // The id last reported as playing, per kind: hls.js repeats SUBTITLE_TRACK_SWITCH for the
    // same track (each time it re-applies its selection), which is not a switch.
    this.reported = { [AUDIO]: undefined, [SUBTITLES]: undefined };
    this.registerListeners();
  }

  hlsHandlers() {
    const E = this.Hls.Events;
    return [
      [E.MANIFEST_PARSED, this.onManifestParsed],
      [E.AUDIO_TRACKS_UPDATED, this.onAudioTracksUpdated],
      [E.AUDIO_TRACK_SWITCHED, this.onAudioTrackSwitched],
      [E.SUBTITLE_TRACKS_UPDATED, this.onSubtitleTracksUpdated],
      [E.SUBTITLE_TRACK_SWITCH, this.onSubtitleTrackSwitch],
    ];
  }

  registerListeners() {
    for (const [event, fn] of this.hlsHandlers()) this.hls.on(event, fn, this);
    this.bus.on(Events.RENDITION_REQUEST, this.onRequest, this);
  }

  unregisterListeners() {
    for (const [event, fn] of this.hlsHandlers()) this.hls.off(event, fn, this);
    this.bus.off(Events.RENDITION_REQUEST, this.onRequest, this);
  }

  destroy() {
    this.unregisterListeners();
    this.store.reset();
  }

  log(name, text) {
    this.bus.emit(Events.LOG, { name, text });
  }

  // The URL's choice goes in as hls.js's audio/subtitle *option* while the manifest is parsed,
  // before any level (and so any track) has loaded: French starts in French, with no English
  // fragment fetched first. hls.js applies the option when it builds each variant's track group.
  onManifestParsed(_, data) {
    this.applyPreference(AUDIO, data.audioTracks || [], this.prefs.audio);
    this.applyPreference(SUBTITLES, data.subtitleTracks || [], this.prefs.subtitles);
  }

  applyPreference(kind, hlsTracks, wanted) {
    if (wanted == null || wanted === '') return;
    // Positions in the master's list, not hls.js's per-group ids: the option is the track itself.
    const tracks = describeTracks(hlsTracks).map((t, i) => ({ ...t, id: i }));
    const id = pickTrack(tracks, wanted);
    if (id === null) {
      const what = tracks.length ? tracks.map(trackLabel).join(', ') : 'none';
      this.log(`${kind}=${wanted}`, `no ${kind} rendition matches; the stream's default plays (renditions: ${what})`);
      return;
    }
    if (kind === SUBTITLES && id === OFF) {
      // The setter also stops hls.js from picking the DEFAULT=YES track later.
      this.hls.subtitleTrack = OFF;
      this.log('subtitles', 'off (asked by the page URL)');
      return;
    }
    if (kind === AUDIO) this.hls.setAudioOption(hlsTracks[id]);
    else this.hls.setSubtitleOption(hlsTracks[id]);
    this.log(kind, `${trackLabel(tracks[id])} (asked by the page URL)`);
  }

  onAudioTracksUpdated(_, data) {
    this.store.set(AUDIO, describeTracks(data.audioTracks));
    this.store.select(AUDIO, this.hls.audioTrack);
  }

  // hls.js fires this once the new track's audio is in the buffer, so "switched" means heard.
  onAudioTrackSwitched(_, data) {
    this.switched(AUDIO, data.id);
  }

  onSubtitleTracksUpdated(_, data) {
    this.store.set(SUBTITLES, describeTracks(data.subtitleTracks));
    this.store.select(SUBTITLES, this.hls.subtitleTrack);
  }

  onSubtitleTrackSwitch(_, data) {
    this.switched(SUBTITLES, data.id);
  }

  switched(kind, id) {
    const from = this.reported[kind] === undefined ? OFF : this.reported[kind];
    this.store.select(kind, id);
    if (this.reported[kind] === id) return;
    this.reported[kind] = id;
    this.bus.emit(Events.RENDITION_SWITCHED, { at: now(), kind, from, to: id });
    this.log(`${kind} switched`, trackLabel(this.store.current(kind)));
  }

  onRequest({ kind, id }) {
    if (kind === AUDIO) {
      if (id === this.hls.audioTrack || !this.store.all(AUDIO).some((t) => t.id === id)) return;
      this.hls.audioTrack = id; // flushes the other language's audio and refills from the playhead
    } else if (kind === SUBTITLES) {
      if (id !== OFF && !this.store.all(SUBTITLES).some((t) => t.id === id)) return;
      this.hls.subtitleDisplay = true; // hls.js then shows the track ('showing'), not only loads it
      this.hls.subtitleTrack = id;
    }
  }
}
