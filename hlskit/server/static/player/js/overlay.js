// OverlayController: the definition on the picture (name, resolution, declared bit rate), so a
// screenshot or a screen recording says what was playing. A toggle shows or hides it.
import { Events } from './bus.js';
import { kbps, label } from './levels.js';

const KEY = 'hlskit.overlay';

export class OverlayController {
  constructor(bus, root, toggle, video) {
    this.root = root;
    this.toggle = toggle;
    this.video = video;
    this.levels = [];
    this.level = -1;
    let shown = true;
    try { shown = localStorage.getItem(KEY) !== 'off'; } catch (err) { /* storage blocked: keep the default */ }
    toggle.checked = shown;
    toggle.addEventListener('change', () => {
      try { localStorage.setItem(KEY, toggle.checked ? 'on' : 'off'); } catch (err) { /* not kept: fine */ }
      this.render();
    });
    bus.on(Events.LEVELS, ({ levels }) => { this.levels = levels; this.render(); });
    bus.on(Events.LEVEL_SWITCHED, ({ to }) => { this.level = to; this.render(); });
    bus.on(Events.ENGINE_READY, ({ engine }) => { this.native = engine === 'native'; });
    // Native HLS reports no levels: the picture's own size is all there is.
    video.addEventListener('resize', () => this.render());
  }

  text() {
    const def = this.levels[this.level];
    if (def) return `${label(def)} · ${kbps(def.bitrate)}`;
    return this.video.videoHeight ? `${this.video.videoWidth}×${this.video.videoHeight}` : '';
  }

  render() {
    const text = this.text();
    this.root.hidden = !this.toggle.checked || !text;
    if (this.root.textContent !== text) this.root.textContent = text;
  }
}
