// SeekBarController: a thin seek bar of the page's own under the video (the native controls'
// bar cannot show a preview). It mirrors the playback position, seeks on click and with the
// keyboard (WAI-ARIA slider pattern: arrows ±5 s, Page Up/Down ±30 s, Home, End), and reports
// where the pointer hovers, in media time, on the bus.
import { Events } from './bus.js';

export const clock = (t) => {
  const s = Math.max(0, Math.floor(t));
  const hms = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60];
  return (hms[0] ? `${hms[0]}:${String(hms[1]).padStart(2, '0')}` : `${hms[1]}`) + `:${String(hms[2]).padStart(2, '0')}`;
};

const VIDEO_EVENTS = ['timeupdate', 'durationchange', 'seeking', 'loadedmetadata'];

export class SeekBarController {
  constructor(bus, root, fill, video) {
    this.bus = bus;
    this.root = root;
    this.fill = fill;
    this.video = video;
    // One stable function per listener, so destroy() removes exactly these.
    this.onRender = () => this.render();
    this.onPointerMove = (e) => this.hover(e);
    this.onPointerLeave = () => bus.emit(Events.SEEK_HOVER, { time: null });
    this.onClick = (e) => { const t = this.timeAt(e.clientX); if (t !== null) this.seek(t); };
    this.onKeyDown = (e) => this.key(e);
    this.registerListeners();
    this.render();
  }

  registerListeners() {
    for (const name of VIDEO_EVENTS) this.video.addEventListener(name, this.onRender);
    this.root.addEventListener('pointermove', this.onPointerMove);
    this.root.addEventListener('pointerleave', this.onPointerLeave);
    this.root.addEventListener('click', this.onClick);
    this.root.addEventListener('keydown', this.onKeyDown);
  }

  unregisterListeners() {
    for (const name of VIDEO_EVENTS) this.video.removeEventListener(name, this.onRender);
    this.root.removeEventListener('pointermove', this.onPointerMove);
    this.root.removeEventListener('pointerleave', this.onPointerLeave);
    this.root.removeEventListener('click', this.onClick);
    this.root.removeEventListener('keydown', this.onKeyDown);
  }

  destroy() {
    this.unregisterListeners();
  }

  get duration() {
    const d = this.video.duration;
    return Number.isFinite(d) && d > 0 ? d : 0;
  }

  timeAt(clientX) {
    const box = this.root.getBoundingClientRect();
    if (!this.duration || !box.width) return null;
    return Math.min(Math.max((clientX - box.left) / box.width, 0), 1) * this.duration;
  }

  hover(e) {
    const time = this.timeAt(e.clientX);
    if (time === null) return;
    const box = this.root.getBoundingClientRect();
    this.bus.emit(Events.SEEK_HOVER, { time, x: e.clientX - box.left, width: box.width });
  }

  seek(time) {
    this.video.currentTime = Math.min(Math.max(time, 0), this.duration);
    this.render();
  }

  key(e) {
    const steps = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -30, PageUp: 30 };
    if (e.key in steps) this.seek(this.video.currentTime + steps[e.key]);
    else if (e.key === 'Home') this.seek(0);
    else if (e.key === 'End') this.seek(this.duration);
    else return;
    e.preventDefault();
  }

  render() {
    const d = this.duration;
    const t = Math.min(this.video.currentTime || 0, d);
    this.fill.style.width = d ? `${(100 * t) / d}%` : '0';
    this.root.setAttribute('aria-valuemax', String(Math.round(d)));
    this.root.setAttribute('aria-valuenow', String(Math.round(t)));
    this.root.setAttribute('aria-valuetext', `${clock(t)} of ${clock(d)}`);
  }
}
