// LevelMenuController: "Auto" plus one button per definition (name · resolution · declared bit
// rate, and a quality figure when the page config carries one). A click asks for that
// definition; the buttons show which one plays and which one is chosen.
import { Events } from './bus.js';
import { kbps, label } from './levels.js';

export class LevelMenuController {
  constructor(bus, root, quality) {
    this.bus = bus;
    // {definition name: "VMAF 93"}: a hook for quality figures (the package manifest is not served).
    this.quality = quality || {};
    this.root = root;
    this.levels = [];
    this.chosen = -1; // -1 = Auto
    this.playing = null; // level index shown now
    bus.on(Events.LEVELS, ({ levels }) => { this.levels = levels; this.render(); });
    bus.on(Events.LEVEL_SWITCHED, ({ to }) => { this.playing = to; this.mark(); });
    bus.on(Events.LEVEL_REQUEST, ({ level }) => { this.chosen = level; this.mark(); });
    bus.on(Events.ENGINE_READY, ({ engine }) => { if (engine === 'native') this.root.closest('nav').hidden = true; });
  }

  render() {
    this.root.replaceChildren();
    const add = (index, text, title) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.level = String(index);
      b.textContent = text;
      if (title) b.title = title;
      b.addEventListener('click', () => this.bus.emit(Events.LEVEL_REQUEST, { level: index }));
      this.root.append(b);
    };
    add(-1, 'Auto', 'switch definitions automatically from the measured bandwidth');
    // Lowest first, as hls.js orders levels.
    this.levels.forEach((def) => {
      const quality = this.quality[def.name];
      add(def.index, [label(def), kbps(def.bitrate), quality].filter(Boolean).join(' · '), def.url);
    });
    this.mark();
  }

  mark() {
    for (const b of this.root.querySelectorAll('button')) {
      const level = Number(b.dataset.level);
      b.setAttribute('aria-pressed', String(level === this.chosen));
      b.classList.toggle('playing', level === this.playing);
      if (level === -1 && this.chosen === -1 && this.playing >= 0 && this.levels[this.playing]) {
        b.textContent = `Auto (${this.levels[this.playing].name})`;
      } else if (level === -1) {
        b.textContent = 'Auto';
      }
    }
  }
}
