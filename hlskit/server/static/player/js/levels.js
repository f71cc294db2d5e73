// Definitions as a person names them: NAME attribute, else the variant's folder (LD/index.m3u8
// → "LD"), else the height ("720p"); with the resolution and declared bandwidth. And the one
// store of the playing source's levels, which every other controller reads.
import { Events } from './bus.js';

export function definitionName(level) {
  const attrs = level.attrs || {};
  if (attrs.NAME) return attrs.NAME;
  if (level.name && !/^\d+$/.test(String(level.name))) return String(level.name);
  const url = Array.isArray(level.url) ? level.url[0] : level.url;
  if (url) {
    const parts = new URL(url, location.href).pathname.split('/').filter(Boolean);
    if (parts.length >= 2) return decodeURIComponent(parts[parts.length - 2]);
  }
  return level.height ? `${level.height}p` : 'unnamed';
}

export function describeLevels(hlsLevels) {
  return hlsLevels.map((level, index) => ({
    index,
    name: definitionName(level),
    width: level.width || 0,
    height: level.height || 0,
    bitrate: level.bitrate || 0,                      // BANDWIDTH (peak)
    averageBitrate: level.averageBitrate || 0,        // AVERAGE-BANDWIDTH when declared
    codecs: [level.videoCodec, level.audioCodec].filter(Boolean).join(','),
    url: Array.isArray(level.url) ? level.url[0] : level.url,
  }));
}

// `hlskit package --transmux` (or --ladder auto+source) names the definition whose video is the
// source's own, copied without re-encoding, SOURCE (its folder SOURCE/).
export const SOURCE = 'SOURCE';

export function isSource(def) {
  return Boolean(def) && def.name === SOURCE;
}

export function resolution(def) {
  return def && def.width ? `${def.width}×${def.height}` : '';
}

export function label(def) {
  if (!def) return '–';
  const res = resolution(def);
  return res ? `${def.name} · ${res}` : def.name;
}

export function kbps(bitsPerSecond) {
  if (!bitsPerSecond) return '–';
  return bitsPerSecond >= 1e6 ? `${(bitsPerSecond / 1e6).toFixed(2)} Mb/s` : `${Math.round(bitsPerSecond / 1e3)} kb/s`;
}

// LevelsStore: the levels of the source now playing, held once. The engine sets them; the menu,
// overlay, chart, log and state read them here (never a copy of their own, which could go stale
// when the source changes) and hear of a change through Events.LEVELS on the bus.
export class LevelsStore {
  constructor(bus) {
    this.bus = bus;
    this.levels = Object.freeze([]);
  }

  set(levels) {
    // Frozen: a reader cannot change what the others see.
    this.levels = Object.freeze(levels.map((l) => Object.freeze({ ...l })));
    this.bus.emit(Events.LEVELS, { count: this.levels.length });
  }

  all() {
    return this.levels;
  }

  get count() {
    return this.levels.length;
  }

  at(index) {
    return this.levels[index] || null;
  }

  nameOf(index) {
    const def = this.at(index);
    return def ? def.name : null;
  }

  topBitrate() {
    return Math.max(0, ...this.levels.map((l) => l.bitrate));
  }

  // It registered nothing; forgetting the levels keeps a destroyed player from answering.
  destroy() {
    this.levels = Object.freeze([]);
  }
}
