// ThumbnailsController: the preview over the seek bar. It reads the package's WebVTT thumbnails
// track (thumbnails.vtt beside the master): cues (W3C WebVTT, section 4) whose payload is an image
// URL with a Media Fragments spatial fragment, sprite.jpg#xywh=x,y,w,h (W3C Media Fragments URI
// 1.0, section 4.2), the format JW Player and the video.js thumbnail plugins read. Like segments,
// the track and the sprite are fetched without a token. A package without one (404, another
// origin without CORS) simply shows the time alone.
import { Events } from './bus.js';
import { clock } from './seekbar.js';

const TIMESTAMP = /^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})$/;

function seconds(stamp) {
  const m = TIMESTAMP.exec(stamp.trim());
  return m ? Number(m[1] || 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000 : null;
}

export function parseThumbnails(text, base) {
  const cues = [];
  const lf = text.replace(/\r\n?/g, '\n'); // WebVTT line terminators: CRLF, LF or CR
  if (!/^\uFEFF?WEBVTT(?:[ \t]|$)/.test(lf.split('\n', 1)[0])) return cues;
  for (const block of lf.split(/\n{2,}/).slice(1)) {
    const lines = block.split('\n').filter((l) => l.trim());
    const at = lines.findIndex((l) => l.includes('-->'));
    if (at < 0 || !lines[at + 1]) continue; // NOTE, STYLE and REGION blocks have no timing line
    const [from, to] = lines[at].split('-->').map((s) => seconds(s.trim().split(/\s+/)[0]));
    const url = new URL(lines[at + 1].trim(), base);
    const xywh = /^#xywh=(?:pixel:)?(\d+),(\d+),(\d+),(\d+)$/.exec(url.hash);
    if (from === null || to === null || !xywh) continue;
    url.hash = '';
    const [x, y, w, h] = xywh.slice(1).map(Number);
    cues.push({ start: from, end: to, image: url.href, x, y, w, h });
  }
  return cues;
}

export class ThumbnailsController {
  constructor(bus, box, timeLabel, src) {
    this.bus = bus;
    this.box = box;
    this.timeLabel = timeLabel;
    this.cues = [];
    this.url = new URL('thumbnails.vtt', new URL(src, location.href)).href;
    this.aborter = new AbortController(); // destroy() cancels a track still loading
    this.bus.on(Events.SEEK_HOVER, this.show, this);
    this.load();
  }

  destroy() {
    this.bus.off(Events.SEEK_HOVER, this.show, this);
    this.aborter.abort();
    this.cues = [];
    this.box.hidden = true;
  }

  async load() {
    const { signal } = this.aborter;
    let cues;
    try {
      const response = await fetch(this.url, { credentials: 'same-origin', signal });
      if (!response.ok) return; // no thumbnails in this package: the time alone is shown
      cues = parseThumbnails(await response.text(), response.url);
    } catch (err) {
      return; // aborted, another origin without CORS, or offline: quietly without previews
    }
    if (signal.aborted) return; // destroyed meanwhile: keep and announce nothing
    this.cues = cues;
    if (this.cues.length) {
      this.bus.emit(Events.THUMBNAILS, { url: this.url, count: this.cues.length });
      this.bus.emit(Events.LOG, { name: 'thumbnails', text: `${this.cues.length} previews from ${this.url}` });
    }
  }

  cueAt(time) {
    const last = this.cues[this.cues.length - 1];
    return this.cues.find((c) => time >= c.start && time < c.end) || (last && time >= last.start ? last : null);
  }

  show({ time, x, width }) {
    if (time === null || time === undefined) {
      this.box.hidden = true;
      return;
    }
    const cue = this.cues.length ? this.cueAt(time) : null;
    const s = this.box.style;
    if (cue) {
      s.width = `${cue.w}px`;
      s.height = `${cue.h}px`;
      s.backgroundImage = `url("${cue.image}")`;
      s.backgroundPosition = `-${cue.x}px -${cue.y}px`;
      this.box.dataset.cue = `${cue.start}`;
    } else {
      s.width = s.height = s.backgroundImage = s.backgroundPosition = '';
      delete this.box.dataset.cue;
    }
    this.box.classList.toggle('has-image', Boolean(cue));
    this.timeLabel.textContent = clock(time);
    this.box.hidden = false;
    const half = this.box.offsetWidth / 2;
    s.left = `${Math.min(Math.max(x - half, 0), Math.max(width - 2 * half, 0))}px`;
  }
}
