// LevelMenuController: "Auto" plus one button per definition (name · resolution · declared bit
// rate, and a quality figure when the page config carries one). A click asks for that
// definition; the buttons show which one plays and which one is chosen.
import { Events } from './bus.js';
import { isSource, kbps, label } from './levels.js';

export class LevelMenuController {
  constructor(bus, root, quality, levels) {
    this.bus = bus;
    // {definition name: "VMAF 93"}: a hook for quality figures (the package manifest is not served).
    this.quality = quality || {};
    this.root = root;
    this.levels = levels;
    this.chosen = -1; // -1 = Auto
    this.playing = null; // level index shown now
    // One listener on the menu for every button (event delegation): buttons come and go with
    // the levels, the listener stays until destroy().
    this.onClick = (e) => {
      const b = e.target.closest('button[data-level]');
      if (b && this.root.contains(b)) this.bus.emit(Events.LEVEL_REQUEST, { level: Number(b.dataset.level) });
    };
    this.registerListeners();
  }

  handlers() {
    return [
      [Events.LEVELS, this.render],
      [Events.LEVEL_SWITCHED, this.onLevelSwitched],
      [Events.LEVEL_REQUEST, this.onLevelRequest],
      [Events.ENGINE_READY, this.onEngineReady],
    ];
  }

  registerListeners() {
    for (const [name, fn] of this.handlers()) this.bus.on(name, fn, this);
    this.root.addEventListener('click', this.onClick);
  }

  unregisterListeners() {
    for (const [name, fn] of this.handlers()) this.bus.off(name, fn, this);
    this.root.removeEventListener('click', this.onClick);
  }

  destroy() {
    this.unregisterListeners();
    this.root.replaceChildren();
    this.root.closest('nav').hidden = false;
  }

  onLevelSwitched({ to }) {
    this.playing = to;
    this.mark();
  }

  onLevelRequest({ level }) {
    this.chosen = level;
    this.mark();
  }

  onEngineReady({ engine }) {
    if (engine === 'native') this.root.closest('nav').hidden = true;
  }

  render() {
    this.root.replaceChildren();
    const add = (index, text, title) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.level = String(index);
      b.textContent = text;
      if (title) b.title = title;
      this.root.append(b);
    };
    add(-1, 'Auto', 'switch definitions automatically from the measured bandwidth');
    // Lowest first, as hls.js orders levels.
    for (const def of this.levels.all()) {
      const quality = this.quality[def.name];
      const title = isSource(def) ? `the source's own video, copied without re-encoding: ${def.url}` : def.url;
      add(def.index, [label(def), kbps(def.bitrate), quality].filter(Boolean).join(' · '), title);
    }
    this.mark();
  }

  mark() {
    const playing = this.levels.at(this.playing);
    for (const b of this.root.querySelectorAll('button')) {
      const level = Number(b.dataset.level);
      b.setAttribute('aria-pressed', String(level === this.chosen));
      b.classList.toggle('playing', level === this.playing);
      if (level === -1 && this.chosen === -1 && this.playing >= 0 && playing) {
        b.textContent = `Auto (${playing.name})`;
      } else if (level === -1) {
        b.textContent = 'Auto';
      }
    }
  }
}
