// OverlayController: the definition on the picture (name, resolution, declared bit rate), so a
// screenshot or a screen recording says what was playing. A toggle shows or hides it.
import { Events } from './bus.js';
import { kbps, label } from './levels.js';

const KEY = 'hlskit.overlay';

export class OverlayController {
  constructor(bus, root, toggle, video, levels) {
    this.bus = bus;
    this.root = root;
    this.toggle = toggle;
    this.video = video;
    this.levels = levels;
    this.level = -1;
    let shown = true;
    try { shown = localStorage.getItem(KEY) !== 'off'; } catch (err) { /* storage blocked: keep the default */ }
    toggle.checked = shown;
    this.onToggle = () => {
      try { localStorage.setItem(KEY, toggle.checked ? 'on' : 'off'); } catch (err) { /* not kept: fine */ }
      this.render();
    };
    // Native HLS reports no levels: the picture's own size is all there is.
    this.onResize = () => this.render();
    this.registerListeners();
  }

  registerListeners() {
    this.bus.on(Events.LEVELS, this.render, this);
    this.bus.on(Events.LEVEL_SWITCHED, this.onLevelSwitched, this);
    this.toggle.addEventListener('change', this.onToggle);
    this.video.addEventListener('resize', this.onResize);
  }

  unregisterListeners() {
    this.bus.off(Events.LEVELS, this.render, this);
    this.bus.off(Events.LEVEL_SWITCHED, this.onLevelSwitched, this);
    this.toggle.removeEventListener('change', this.onToggle);
    this.video.removeEventListener('resize', this.onResize);
  }

  destroy() {
    this.unregisterListeners();
    this.root.textContent = '';
    this.root.hidden = true;
  }

  onLevelSwitched({ to }) {
    this.level = to;
    this.render();
  }

  text() {
    const def = this.levels.at(this.level);
    if (def) return `${label(def)} · ${kbps(def.bitrate)}`;
    return this.video.videoHeight ? `${this.video.videoWidth}×${this.video.videoHeight}` : '';
  }

  render() {
    const text = this.text();
    this.root.hidden = !this.toggle.checked || !text;
    if (this.root.textContent !== text) this.root.textContent = text;
  }
}
