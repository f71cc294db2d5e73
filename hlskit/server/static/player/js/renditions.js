// Renditions (RFC 8216 §4.3.4.1 EXT-X-MEDIA): a master's alternative audio (one per language,
// dubbing, commentary) and its WebVTT subtitles. This module names them, picks one from what a
// person asks for (?audio=fr, ?subtitles=off) and holds the playing source's lists once, as
// LevelsStore holds the definitions; tracks.js fills it from hls.js.
import { Events } from './bus.js';

export const AUDIO = 'audio';
export const SUBTITLES = 'subtitles';
export const OFF = -1; // hls.js's subtitleTrack for "no subtitles"

// hls.js's MediaPlaylist → the plain record the menus, the panel and state() read. `id` is the
// index hls.js uses in audioTracks / subtitleTracks (the variant's group), which is what a switch
// needs.
export function describeTracks(hlsTracks) {
  return (hlsTracks || []).map((t, index) => ({
    id: Number.isInteger(t.id) ? t.id : index,
    lang: t.lang || '',
    name: t.name || t.lang || `track ${index + 1}`,
    default: Boolean(t.default),
    autoselect: Boolean(t.autoselect),
    forced: Boolean(t.forced),
    characteristics: t.characteristics || '',
    channels: t.channels || '',
    groupId: t.groupId || '',
    url: t.url || '',
  }));
}

// "Version française (fr)"; the language is added because NAME alone may not say it (two
// English tracks, "English" and "Commentary", differ only by NAME).
export function trackLabel(track) {
  if (!track) return 'off';
  return track.lang && !track.name.includes(`(${track.lang})`) ? `${track.name} (${track.lang})` : track.name;
}

// Same language: equal tags, or one a prefix of the other on a subtag boundary (fr ~ fr-CA), as
// RFC 4647 §3.3.1 basic filtering matches a range.
export function sameLanguage(a, b) {
  const x = String(a || '').toLowerCase();
  const y = String(b || '').toLowerCase();
  if (!x || !y) return false;
  return x === y || x.startsWith(`${y}-`) || y.startsWith(`${x}-`);
}

// The track a person means by `wanted` (from ?audio= or ?subtitles=, or the API): a language tag
// (the default or auto-selectable track of that language first, a forced subtitle track last,
// since forced subtitles only cover foreign-language lines), else a NAME, else an id ("2").
// 'off' (subtitles) gives OFF; nothing matching gives null, and the player keeps hls.js's choice.
export function pickTrack(tracks, wanted) {
  if (wanted === undefined || wanted === null || wanted === '') return null;
  const text = String(wanted).trim();
  if (text.toLowerCase() === 'off') return OFF;
  const rank = (t) => (t.forced ? 4 : 0) + (t.default ? 0 : 1) + (t.autoselect ? 0 : 2);
  const byLang = tracks.filter((t) => sameLanguage(t.lang, text)).sort((a, b) => rank(a) - rank(b));
  if (byLang.length) return byLang[0].id;
  const byName = tracks.find((t) => t.name.toLowerCase() === text.toLowerCase());
  if (byName) return byName.id;
  if (/^\d+$/.test(text) && tracks.some((t) => t.id === Number(text))) return Number(text);
  return null;
}

// RenditionsStore: the audio and subtitle tracks of the source now playing and which of each is
// selected, held once. tracks.js sets them; readers hear of a change through Events.RENDITIONS
// ({kind}) and read them here.
export class RenditionsStore {
  constructor(bus) {
    this.bus = bus;
    this.reset();
  }

  reset() {
    this.lists = { [AUDIO]: Object.freeze([]), [SUBTITLES]: Object.freeze([]) };
    this.selected = { [AUDIO]: OFF, [SUBTITLES]: OFF };
  }

  set(kind, tracks) {
    this.lists[kind] = Object.freeze(tracks.map((t) => Object.freeze({ ...t })));
    this.bus.emit(Events.RENDITIONS, { kind });
  }

  select(kind, id) {
    if (this.selected[kind] === id) return;
    this.selected[kind] = id;
    this.bus.emit(Events.RENDITIONS, { kind });
  }

  all(kind) {
    return this.lists[kind];
  }

  selectedId(kind) {
    return this.selected[kind];
  }

  current(kind) {
    return this.lists[kind].find((t) => t.id === this.selected[kind]) || null;
  }

  // It registered nothing; forgetting the tracks keeps a destroyed player from answering.
  destroy() {
    this.reset();
  }
}
