// Definitions as a person names them: NAME attribute, else the variant's folder (LD/index.m3u8
// → "LD"), else the height ("720p"); with the resolution and declared bandwidth.

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
