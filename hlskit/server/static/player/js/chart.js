// ChartController: the session over time on a plain canvas (no charting dependency), like the
// hls.js demo page's charts. Top: the declared BANDWIDTH of each loaded fragment's definition
// (steps), hls.js's bandwidth estimate (line), switches (vertical marks), throttled spans
// (shaded). Bottom: the buffer ahead of the playhead. points() is what is drawn, for automation.
import { Events, now } from './bus.js';
import { kbps } from './levels.js';
import { Ring } from './ring.js';

const SAMPLE_MS = 500;
// Points kept (the oldest go first), so a long session draws and holds a bounded record.
export const MAX_SAMPLES = 3600;   // 30 minutes at two a second
export const MAX_FRAGMENTS = 3600; // two hours of 2 s segments, as the player's record keeps
export const MAX_SWITCHES = 1000;
export const MAX_SHAPING = 100;    // throttled spans: one per phase of each profile chosen
const COLORS = { level: '#4fa3ff', estimate: '#f5c04a', buffer: '#7bd88f', switch: '#ff6b6b', grid: '#2c343c', text: '#9aa0a6', shaped: 'rgba(255,107,107,.12)' };

export class ChartController {
  constructor(bus, canvas, state, levels) {
    this.bus = bus;
    this.canvas = canvas;
    this.state = state;
    this.levels = levels;
    this.fragments = new Ring(MAX_FRAGMENTS); // {at, level, sn, name, bitrate}
    this.samples = new Ring(MAX_SAMPLES);     // {at, estimate, buffer, level, name}
    this.switches = new Ring(MAX_SWITCHES);   // {at, from, to, name}
    this.shaping = new Ring(MAX_SHAPING);     // {fromAt, toAt, kbps}: throttled spans, page clock in seconds
    this.registerListeners();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  registerListeners() {
    this.bus.on(Events.FRAG_LOADED, this.onFragLoaded, this);
    this.bus.on(Events.LEVEL_SWITCHED, this.onLevelSwitched, this);
    this.bus.on(Events.SHAPING, this.onShaping, this);
  }

  unregisterListeners() {
    this.bus.off(Events.FRAG_LOADED, this.onFragLoaded, this);
    this.bus.off(Events.LEVEL_SWITCHED, this.onLevelSwitched, this);
    this.bus.off(Events.SHAPING, this.onShaping, this);
  }

  destroy() {
    this.unregisterListeners();
    clearInterval(this.timer);
    this.timer = null;
    const c = this.canvas;
    c.getContext('2d').clearRect(0, 0, c.width, c.height);
  }

  // Times come with the events (one clock reading per event), so points and state() agree.
  // A definition's bit rate is the curve; audio and subtitle renditions' fragments are not on it.
  onFragLoaded({ at, type, level, sn }) {
    if (type && type !== 'main') return;
    const def = this.levels.at(level) || {};
    this.fragments.push({ at, level, sn, name: def.name || null, bitrate: def.bitrate || 0 });
    this.draw();
  }

  onLevelSwitched({ at, from, to }) {
    this.switches.push({ at, from, to, name: this.levels.nameOf(to) });
    this.draw();
  }

  onShaping({ timeline }) {
    const t = now();
    // A new profile replaces what remained of the previous one.
    const kept = this.shaping.toArray().filter((s) => s.fromAt < t).map((s) => ({ ...s, toAt: Math.min(s.toAt, t) }));
    this.shaping.clear();
    for (const s of kept) this.shaping.push(s);
    for (const p of timeline) {
      if (p.kbps) this.shaping.push({ fromAt: p.fromMs / 1000, toAt: p.toMs / 1000, kbps: p.kbps });
    }
  }

  // One sample from the same record state() returns.
  sample() {
    const s = this.state.current();
    if (s.engine === 'none') return;
    this.samples.push({
      at: s.at,
      estimate: s.bandwidthEstimate,
      buffer: Math.round(s.bufferAhead * 1000) / 1000,
      level: s.currentLevel,
      name: s.currentDefinition,
    });
    this.draw();
  }

  points() {
    return {
      fragments: this.fragments.toArray(),
      samples: this.samples.toArray(),
      switches: this.switches.toArray(),
      shaping: this.shaping.toArray().map((s) => ({ ...s, toAt: Number.isFinite(s.toAt) ? s.toAt : null })),
    };
  }

  draw() {
    const c = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const w = c.clientWidth;
    const h = c.clientHeight;
    if (!w || !h) return;
    if (c.width !== Math.round(w * ratio) || c.height !== Math.round(h * ratio)) {
      c.width = Math.round(w * ratio);
      c.height = Math.round(h * ratio);
    }
    const g = c.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    const pad = { l: 92, r: 8, t: 8 };
    const split = Math.round(h * 0.66);
    const samples = this.samples.toArray();
    const fragments = this.fragments.toArray();
    const levels = this.levels.all();
    // Both records are in time order: the earliest point is the first of one of them.
    const firsts = [samples[0], fragments[0]].filter(Boolean).map((p) => p.at);
    if (!firsts.length) return;
    const t0 = Math.min(...firsts);
    const t1 = Math.max(now(), t0 + 10);
    const x = (at) => pad.l + ((at - t0) / (t1 - t0)) * (w - pad.l - pad.r);

    // Bit rates: one scale for declared and estimated, so the two can be compared; it stops at
    // twice the top definition (an unthrottled local estimate is tens of Mb/s) and clips above.
    const topLevel = this.levels.topBitrate();
    const topEstimate = samples.reduce((m, s) => Math.max(m, s.estimate || 0), 0);
    const top = Math.max(1, topLevel ? Math.min(topEstimate, topLevel * 2) : topEstimate, topLevel) * 1.1;
    const yb = (bps) => split - 14 - (Math.min(bps, top) / top) * (split - 14 - pad.t);
    const maxBuf = samples.reduce((m, s) => Math.max(m, s.buffer), 4) * 1.1;
    const yf = (sec) => h - 14 - (sec / maxBuf) * (h - 14 - split - 6);

    g.font = '11px system-ui, sans-serif';
    g.fillStyle = COLORS.shaped;
    for (const s of this.shaping) {
      const a = x(Math.max(s.fromAt, t0));
      const b = x(Math.min(s.toAt, t1));
      if (b > a) g.fillRect(a, pad.t, b - a, h - pad.t - 14);
    }
    g.strokeStyle = COLORS.grid;
    g.fillStyle = COLORS.text;
    g.lineWidth = 1;
    for (const l of levels) {
      g.beginPath(); g.moveTo(pad.l, yb(l.bitrate)); g.lineTo(w - pad.r, yb(l.bitrate)); g.stroke();
      g.fillText(`${l.name} ${kbps(l.bitrate)}`, 2, yb(l.bitrate) + 4);
    }
    g.fillText(`buffer ${maxBuf.toFixed(0)} s`, 2, yf(maxBuf) + 10);
    const lastEstimate = (this.samples.last() || {}).estimate || 0;
    if (lastEstimate > top) g.fillText(`estimate ${kbps(lastEstimate)} (off the scale)`, pad.l + 4, pad.t + 12);
    g.fillText(`${(t1 - t0).toFixed(0)} s`, w - pad.r - 30, h - 2);

    g.strokeStyle = COLORS.switch;
    for (const s of this.switches) {
      g.beginPath(); g.moveTo(x(s.at), pad.t); g.lineTo(x(s.at), h - 14); g.stroke();
    }
    // Declared bit rate of each loaded fragment, held until the next one.
    this.line(g, fragments.map((f) => [x(f.at), yb(f.bitrate)]), COLORS.level, true, x(now()));
    this.line(g, samples.filter((s) => s.estimate).map((s) => [x(s.at), yb(s.estimate)]), COLORS.estimate);
    this.line(g, samples.map((s) => [x(s.at), yf(s.buffer)]), COLORS.buffer);
    g.fillStyle = COLORS.level;
    for (const f of fragments) g.fillRect(x(f.at) - 2, yb(f.bitrate) - 2, 4, 4);
  }

  line(g, pts, color, steps = false, until = null) {
    if (!pts.length) return;
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(pts[0][0], pts[0][1]);
    for (let i = 1; i < pts.length; i++) {
      if (steps) g.lineTo(pts[i][0], pts[i - 1][1]);
      g.lineTo(pts[i][0], pts[i][1]);
    }
    if (steps && until !== null) g.lineTo(until, pts[pts.length - 1][1]);
    g.stroke();
  }
}
