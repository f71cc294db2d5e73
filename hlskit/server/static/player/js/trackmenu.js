// RenditionMenuController: one button per audio track (language, dubbing, commentary) or per
// subtitle track plus "Off", from the RenditionsStore. A click asks for that track; the buttons
// show which one is chosen and which one plays. One controller per kind; a stream without that
// kind of rendition (muxed audio, no subtitles) hides its menu.
import { Events } from './bus.js';
import { OFF, SUBTITLES, trackLabel } from './renditions.js';

export class RenditionMenuController {
  constructor(bus, root, store, kind) {
    this.bus = bus;
    this.root = root;
    this.nav = root.closest('nav');
    this.store = store;
    this.kind = kind;
    this.chosen = null; // the id asked for and not yet playing, else null
    // Event delegation, as in menu.js: buttons come and go with the tracks, the listener stays.
    this.onClick = (e) => {
      const b = e.target.closest('button[data-track]');
      if (!b || !this.root.contains(b)) return;
      const id = Number(b.dataset.track);
      this.chosen = id;
      this.mark();
      this.bus.emit(Events.RENDITION_REQUEST, { kind: this.kind, id });
    };
    this.nav.hidden = true;
    this.registerListeners();
  }

  registerListeners() {
    this.bus.on(Events.RENDITIONS, this.onRenditions, this);
    this.root.addEventListener('click', this.onClick);
  }

  unregisterListeners() {
    this.bus.off(Events.RENDITIONS, this.onRenditions, this);
    this.root.removeEventListener('click', this.onClick);
  }

  destroy() {
    this.unregisterListeners();
    this.root.replaceChildren();
    this.nav.hidden = true;
  }

  onRenditions({ kind }) {
    if (kind !== this.kind) return;
    if (this.chosen === this.store.selectedId(this.kind)) this.chosen = null;
    this.render();
  }

  render() {
    const tracks = this.store.all(this.kind);
    const ids = this.root.querySelectorAll('button[data-track]');
    const wanted = (this.kind === SUBTITLES ? [OFF] : []).concat(tracks.map((t) => t.id));
    // Rebuilt only when the list changed, so a click's target survives a selection change.
    if (ids.length !== wanted.length || [...ids].some((b, i) => Number(b.dataset.track) !== wanted[i])) {
      this.root.replaceChildren();
      if (this.kind === SUBTITLES) this.add(OFF, 'Off', 'no subtitles');
      for (const t of tracks) this.add(t.id, trackLabel(t), this.describe(t));
    }
    this.nav.hidden = tracks.length === 0;
    this.mark();
  }

  add(id, text, title) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.track = String(id);
    b.textContent = text;
    if (title) b.title = title;
    this.root.append(b);
  }

  // The tooltip says what the master says about the track, for people checking a package.
  describe(t) {
    const bits = [t.lang && `LANGUAGE=${t.lang}`, t.default && 'DEFAULT', t.autoselect && 'AUTOSELECT', t.forced && 'FORCED'];
    if (t.channels) bits.push(`CHANNELS=${t.channels}`);
    if (t.characteristics) bits.push(t.characteristics);
    return bits.filter(Boolean).join(' · ');
  }

  mark() {
    const playing = this.store.selectedId(this.kind);
    const chosen = this.chosen === null ? playing : this.chosen;
    for (const b of this.root.querySelectorAll('button[data-track]')) {
      const id = Number(b.dataset.track);
      b.setAttribute('aria-pressed', String(id === chosen));
      b.classList.toggle('playing', id === playing && this.store.all(this.kind).length > 0);
    }
  }
}
