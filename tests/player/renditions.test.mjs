// Audio and subtitle renditions: picking a track from what a person asks for (?audio=fr,
// ?subtitles=off), the store, and HlsTracks between a stand-in for hls.js and the bus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from './player.mjs';

const { Bus, Events } = await load('bus.js');
const { AUDIO, OFF, SUBTITLES, RenditionsStore, describeTracks, pickTrack, sameLanguage, trackLabel } = await load('renditions.js');
const { HlsTracks } = await load('tracks.js');

// What hls.js 1.7 reports for the master `hlskit package` writes for a title with English and
// French audio, an English commentary, and English, forced French and German subtitles.
const AUDIO_TRACKS = [
  { id: 0, lang: 'en', name: 'English', default: true, autoselect: true, channels: '2', groupId: 'audio', url: 'http://h/media/t/audio/en/index.m3u8' },
  { id: 1, lang: 'fr', name: 'Version française', default: false, autoselect: true, channels: '2', groupId: 'audio', url: 'http://h/media/t/audio/fr/index.m3u8' },
  { id: 2, lang: 'en', name: 'Commentary', default: false, autoselect: false, channels: '2', groupId: 'audio', url: 'http://h/media/t/audio/en-2/index.m3u8' },
];
const SUBTITLE_TRACKS = [
  { id: 0, lang: 'en', name: 'English', default: true, autoselect: true, forced: false, groupId: 'subs' },
  { id: 1, lang: 'fr', name: 'Français (forced)', default: false, autoselect: true, forced: true, groupId: 'subs' },
  { id: 2, lang: 'de', name: 'Deutsch', default: false, autoselect: true, forced: false, groupId: 'subs' },
];
const audio = describeTracks(AUDIO_TRACKS);
const subtitles = describeTracks(SUBTITLE_TRACKS);

test('a language picks the default or auto-selectable track of that language, not the commentary', () => {
  assert.equal(pickTrack(audio, 'fr'), 1);
  assert.equal(pickTrack(audio, 'en'), 0);
  assert.equal(pickTrack(audio, 'EN'), 0);
  assert.equal(pickTrack(audio, 'fr-CA'), 1, 'a regional tag matches its language (RFC 4647 basic filtering)');
});

test('a NAME or an id picks that track; off is no subtitles; anything else is no match', () => {
  assert.equal(pickTrack(audio, 'Commentary'), 2);
  assert.equal(pickTrack(audio, 'commentary'), 2);
  assert.equal(pickTrack(audio, '2'), 2);
  assert.equal(pickTrack(subtitles, 'off'), OFF);
  assert.equal(pickTrack(subtitles, 'Off'), OFF);
  assert.equal(pickTrack(audio, 'ja'), null);
  assert.equal(pickTrack(audio, '7'), null);
  assert.equal(pickTrack(audio, ''), null);
  assert.equal(pickTrack(audio, undefined), null);
});

test('forced subtitles come after full subtitles of the same language, and are picked when alone', () => {
  const both = describeTracks([
    { id: 0, lang: 'fr', name: 'Français (forced)', forced: true, autoselect: true },
    { id: 1, lang: 'fr', name: 'Français', forced: false, autoselect: true },
  ]);
  assert.equal(pickTrack(both, 'fr'), 1);
  assert.equal(pickTrack(subtitles, 'fr'), 1, 'the only French track is the forced one');
});

test('languages match on subtag boundaries only', () => {
  assert.ok(sameLanguage('en', 'en-GB'));
  assert.ok(!sameLanguage('en', 'eng'));
  assert.ok(!sameLanguage('', 'en'));
});

test('labels add the language to the NAME unless it says it already', () => {
  assert.deepEqual(audio.map(trackLabel), ['English (en)', 'Version française (fr)', 'Commentary (en)']);
  assert.equal(trackLabel({ name: 'Deutsch (de)', lang: 'de' }), 'Deutsch (de)');
  assert.equal(trackLabel(null), 'off');
});

test('the store holds each kind once, frozen, and announces changes of list or selection', () => {
  const bus = new Bus();
  const store = new RenditionsStore(bus);
  const heard = [];
  bus.on(Events.RENDITIONS, ({ kind }) => heard.push(kind));
  store.set(AUDIO, audio);
  store.select(AUDIO, 1);
  store.select(AUDIO, 1); // no change, no event
  store.set(SUBTITLES, subtitles);
  assert.deepEqual(heard, [AUDIO, AUDIO, SUBTITLES]);
  assert.equal(store.current(AUDIO).name, 'Version française');
  assert.equal(store.current(SUBTITLES), null, 'subtitles start off');
  assert.throws(() => { store.all(AUDIO)[0].lang = 'xx'; }, TypeError);
  store.destroy();
  assert.deepEqual([store.all(AUDIO).length, store.selectedId(AUDIO)], [0, OFF]);
});

// hls.js as HlsTracks uses it: on/off with a context, trigger, and the track API.
class FakeHls {
  constructor() {
    this.listeners = [];
    this.audioTrack = -1;
    this.subtitleTrack = -1;
    this.subtitleDisplay = false;
    this.calls = [];
  }

  on(event, fn, ctx) { this.listeners.push([event, fn, ctx]); }
  off(event, fn, ctx) {
    const i = this.listeners.findIndex(([e, f, c]) => e === event && f === fn && c === ctx);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  trigger(event, data) {
    for (const [e, fn, ctx] of [...this.listeners]) if (e === event) fn.call(ctx, event, data);
  }

  setAudioOption(option) { this.calls.push(['setAudioOption', option]); }
  setSubtitleOption(option) { this.calls.push(['setSubtitleOption', option]); }
}
const Hls = {
  Events: {
    MANIFEST_PARSED: 'hlsManifestParsed',
    AUDIO_TRACKS_UPDATED: 'hlsAudioTracksUpdated',
    AUDIO_TRACK_SWITCHED: 'hlsAudioTrackSwitched',
    SUBTITLE_TRACKS_UPDATED: 'hlsSubtitleTracksUpdated',
    SUBTITLE_TRACK_SWITCH: 'hlsSubtitleTrackSwitch',
  },
};
const E = Hls.Events;

function setUp(prefs) {
  const bus = new Bus();
  const hls = new FakeHls();
  const store = new RenditionsStore(bus);
  const tracks = new HlsTracks(bus, hls, Hls, store, prefs);
  const switched = [];
  const logged = [];
  bus.on(Events.RENDITION_SWITCHED, (d) => switched.push([d.kind, d.from, d.to]));
  bus.on(Events.LOG, (d) => logged.push(`${d.name}: ${d.text}`));
  return { bus, hls, store, tracks, switched, logged };
}

test('the page URL\'s choice is handed to hls.js as the track itself while the manifest is parsed', () => {
  const { hls, logged } = setUp({ audio: 'Commentary', subtitles: 'de' });
  hls.trigger(E.MANIFEST_PARSED, { audioTracks: AUDIO_TRACKS, subtitleTracks: SUBTITLE_TRACKS });
  assert.deepEqual(hls.calls, [['setAudioOption', AUDIO_TRACKS[2]], ['setSubtitleOption', SUBTITLE_TRACKS[2]]]);
  assert.ok(logged.includes('audio: Commentary (en) (asked by the page URL)'), logged);
});

test('subtitles=off turns subtitles off before hls.js picks the DEFAULT track; an unknown language is said so', () => {
  const { hls, logged } = setUp({ audio: 'ja', subtitles: 'off' });
  hls.subtitleTrack = 0;
  hls.trigger(E.MANIFEST_PARSED, { audioTracks: AUDIO_TRACKS, subtitleTracks: SUBTITLE_TRACKS });
  assert.equal(hls.subtitleTrack, OFF);
  assert.deepEqual(hls.calls, [], 'nothing asked of hls.js for a language the stream lacks');
  assert.ok(logged.some((l) => l.startsWith('audio=ja: no audio rendition matches')), logged);
});

test('hls.js\'s track events fill the store and report each switch once', () => {
  const { hls, store, switched } = setUp({});
  hls.trigger(E.AUDIO_TRACKS_UPDATED, { audioTracks: AUDIO_TRACKS });
  hls.trigger(E.SUBTITLE_TRACKS_UPDATED, { subtitleTracks: SUBTITLE_TRACKS });
  assert.deepEqual(store.all(AUDIO).map((t) => t.lang), ['en', 'fr', 'en']);
  hls.trigger(E.AUDIO_TRACK_SWITCHED, { id: 0 });
  hls.trigger(E.SUBTITLE_TRACK_SWITCH, { id: 0 });
  hls.trigger(E.SUBTITLE_TRACK_SWITCH, { id: 0 }); // hls.js repeats it
  hls.trigger(E.AUDIO_TRACK_SWITCHED, { id: 1 });
  hls.trigger(E.SUBTITLE_TRACK_SWITCH, { id: OFF });
  assert.deepEqual(switched, [[AUDIO, OFF, 0], [SUBTITLES, OFF, 0], [AUDIO, 0, 1], [SUBTITLES, 0, OFF]]);
  assert.equal(store.current(AUDIO).lang, 'fr');
  assert.equal(store.current(SUBTITLES), null);
});

test('a menu request sets hls.js\'s track; subtitles are shown, not only loaded; unknown ids are ignored', () => {
  const { bus, hls } = setUp({});
  hls.trigger(E.AUDIO_TRACKS_UPDATED, { audioTracks: AUDIO_TRACKS });
  hls.trigger(E.SUBTITLE_TRACKS_UPDATED, { subtitleTracks: SUBTITLE_TRACKS });
  bus.emit(Events.RENDITION_REQUEST, { kind: AUDIO, id: 1 });
  bus.emit(Events.RENDITION_REQUEST, { kind: AUDIO, id: 9 });
  bus.emit(Events.RENDITION_REQUEST, { kind: SUBTITLES, id: 2 });
  assert.deepEqual([hls.audioTrack, hls.subtitleTrack, hls.subtitleDisplay], [1, 2, true]);
  bus.emit(Events.RENDITION_REQUEST, { kind: SUBTITLES, id: OFF });
  assert.equal(hls.subtitleTrack, OFF);
});

test('destroy leaves no listener on hls.js or the bus and empties the store', () => {
  const { bus, hls, store, tracks } = setUp({});
  hls.trigger(E.AUDIO_TRACKS_UPDATED, { audioTracks: AUDIO_TRACKS });
  const mine = bus.listenerCount(Events.RENDITION_SWITCHED) + bus.listenerCount(Events.LOG);
  assert.ok(hls.listeners.length > 0 && bus.listenerCount() > mine);
  tracks.destroy();
  assert.equal(hls.listeners.length, 0);
  assert.equal(bus.listenerCount(), mine, 'only the test\'s own listeners are left');
  assert.equal(store.all(AUDIO).length, 0);
});
