// EventLogController: one line per thing that happened, newest last, with its time.
import { Events, now } from './bus.js';
import { label } from './levels.js';

// The log shows its newest lines only: a long session keeps a short page.
export const MAX_LINES = 400;

export class EventLogController {
  constructor(bus, root, levels) {
    this.bus = bus;
    this.root = root;
    this.levels = levels;
    this.decrypted = 0;
    this.registerListeners();
  }

  handlers() {
    return [
      [Events.LOG, this.onLog],
      [Events.LEVEL_SWITCHED, this.onLevelSwitched],
      [Events.KEY_LOADED, this.onKeyLoaded],
      [Events.FRAG_DECRYPTED, this.onFragDecrypted],
      [Events.STALL, this.onStall],
      [Events.ERROR, this.onError],
    ];
  }

  registerListeners() {
    for (const [name, fn] of this.handlers()) this.bus.on(name, fn, this);
  }

  unregisterListeners() {
    for (const [name, fn] of this.handlers()) this.bus.off(name, fn, this);
  }

  // The log stays: it tells what happened before a source was replaced.
  destroy() {
    this.unregisterListeners();
  }

  onLog({ name, text }) {
    this.add(name, text);
  }

  onLevelSwitched({ to, auto }) {
    this.add('level switched', `${label(this.levels.at(to))}${auto ? ' (auto)' : ' (chosen)'}`);
  }

  onKeyLoaded({ uri }) {
    this.add('key loaded', uri);
  }

  // Every segment is decrypted: log the first few, then every tenth, to keep the log readable.
  onFragDecrypted({ type, level, sn }) {
    this.decrypted += 1;
    if (this.decrypted <= 3 || this.decrypted % 10 === 0) {
      const what = type && type !== 'main' ? `${type} track ${level}` : this.levels.nameOf(level) || level;
      this.add('fragment decrypted', `${what} #${sn} (${this.decrypted} so far)`);
    }
  }

  onStall({ duration }) {
    this.add('stall', duration == null ? 'waiting for data' : `resumed after ${duration.toFixed(2)} s`, 'warn');
  }

  onError({ message, fatal }) {
    this.add(fatal ? 'fatal error' : 'error', message, 'bad');
  }

  add(name, text, cls) {
    const li = document.createElement('li');
    if (cls) li.className = cls;
    const t = document.createElement('time');
    t.textContent = now().toFixed(2).padStart(7, ' ');
    const n = document.createElement('b');
    n.textContent = name;
    li.append(t, n, document.createTextNode(text ? ` ${text}` : ''));
    this.root.append(li);
    while (this.root.children.length > MAX_LINES) this.root.firstElementChild.remove();
    this.root.scrollTop = this.root.scrollHeight;
  }
}
