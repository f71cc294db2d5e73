// EventLogController: one line per thing that happened, newest last, with its time.
import { Events, now } from './bus.js';
import { label } from './levels.js';

const MAX_LINES = 400;

export class EventLogController {
  constructor(bus, root) {
    this.root = root;
    this.levels = [];
    this.decrypted = 0;
    const add = (name, text, cls) => this.add(name, text, cls);
    bus.on(Events.LOG, ({ name, text }) => add(name, text));
    bus.on(Events.LEVELS, ({ levels }) => { this.levels = levels; });
    bus.on(Events.LEVEL_SWITCHED, ({ to, auto }) => add('level switched', `${label(this.levels[to])}${auto ? ' (auto)' : ' (chosen)'}`));
    bus.on(Events.KEY_LOADED, ({ uri }) => add('key loaded', uri));
    bus.on(Events.FRAG_DECRYPTED, ({ level, sn }) => {
      // Every segment is decrypted: log the first few, then every tenth, to keep the log readable.
      this.decrypted += 1;
      if (this.decrypted <= 3 || this.decrypted % 10 === 0) {
        add('fragment decrypted', `${(this.levels[level] || {}).name || level} #${sn} (${this.decrypted} so far)`);
      }
    });
    bus.on(Events.STALL, ({ duration }) => add('stall', duration == null ? 'waiting for data' : `resumed after ${duration.toFixed(2)} s`, 'warn'));
    bus.on(Events.ERROR, ({ message, fatal }) => add(fatal ? 'fatal error' : 'error', message, 'bad'));
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
