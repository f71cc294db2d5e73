// Network shaping inside the page: segment loads are paced to a chosen rate or profile so that a
// person sees hls.js switch down and back up without devtools.
//
// It is an hls.js fragment loader (config.fLoader, see hls.js API docs "Loader" / "fLoader"): it
// wraps the default loader and holds back onSuccess until the bytes could have arrived at the
// chosen rate, then sets stats.loading.end to that moment. hls.js's bandwidth estimator samples
// (stats.parsing.end - stats.loading.start, stats.loaded), so it measures the paced rate.
import { Events, now } from './bus.js';

// Profiles: phases of {kbps (null = unthrottled), seconds}; the last phase lasts for ever.
export const PROFILES = Object.freeze({
  off: { label: 'Unthrottled', phases: [{ kbps: null, seconds: Infinity }] },
  '700': { label: '700 kb/s', phases: [{ kbps: 700, seconds: Infinity }] },
  '700x20': { label: '700 kb/s for 20 s, then unthrottled', phases: [{ kbps: 700, seconds: 20 }, { kbps: null, seconds: Infinity }] },
  '400x20': { label: '400 kb/s for 20 s, then unthrottled', phases: [{ kbps: 400, seconds: 20 }, { kbps: null, seconds: Infinity }] },
  '1500': { label: '1.5 Mb/s', phases: [{ kbps: 1500, seconds: Infinity }] },
});

// "700x20,0" → 700 kb/s for 20 s then unthrottled (0 or a missing length = for ever).
export function parseProfile(text) {
  if (!text) return null;
  if (PROFILES[text]) return PROFILES[text];
  const phases = [];
  for (const part of String(text).split(',')) {
    const m = /^\s*(\d+)(?:x(\d+(?:\.\d+)?))?\s*$/.exec(part);
    if (!m) return null;
    phases.push({ kbps: Number(m[1]) || null, seconds: m[2] ? Number(m[2]) : Infinity });
  }
  const words = phases.map((p) => `${p.kbps ? `${p.kbps} kb/s` : 'unthrottled'}${Number.isFinite(p.seconds) ? ` for ${p.seconds} s` : ''}`);
  return { label: words.join(', then '), phases };
}

// The shared clock of one profile: when it started and what rate holds at any moment.
export class Pacer {
  constructor() {
    this.profile = PROFILES.off;
    this.startMs = performance.now();
  }

  set(profile) {
    this.profile = profile;
    this.startMs = performance.now();
  }

  // [{kbps, fromMs, toMs}] on the performance.now() clock.
  timeline() {
    let t = this.startMs;
    return this.profile.phases.map((p) => {
      const phase = { kbps: p.kbps, fromMs: t, toMs: t + p.seconds * 1000 };
      t = phase.toMs;
      return phase;
    });
  }

  // When `bytes` that began loading at `startMs` would have finished at the profile's rates.
  finishMs(startMs, bytes) {
    let bits = bytes * 8;
    let t = startMs;
    for (const p of this.timeline()) {
      if (t >= p.toMs) continue;
      if (t < p.fromMs) t = p.fromMs; // before the profile began: as fast as the network
      if (!p.kbps) return t;
      const phaseEnd = t + (bits / (p.kbps * 1000)) * 1000;
      if (phaseEnd <= p.toMs) return phaseEnd;
      bits -= ((p.toMs - t) / 1000) * p.kbps * 1000;
      t = p.toMs;
    }
    return t;
  }
}

// A loader class for hls.js's fLoader: the default loader, with onSuccess held back.
export function pacedLoader(BaseLoader, pacer) {
  return class PacedLoader extends BaseLoader {
    load(context, config, callbacks) {
      const onSuccess = callbacks.onSuccess;
      const paced = {
        ...callbacks,
        onSuccess: (response, stats, ctx, details) => {
          const bytes = stats.loaded || (response.data && response.data.byteLength) || 0;
          const due = pacer.finishMs(stats.loading.start, bytes);
          const wait = due - performance.now();
          if (wait <= 1) {
            onSuccess(response, stats, ctx, details);
            return;
          }
          this.pacing = setTimeout(() => {
            this.pacing = null;
            // First byte keeps its real time; the last byte arrives when the rate allows.
            stats.loading.end = performance.now();
            onSuccess(response, stats, ctx, details);
          }, wait);
        },
      };
      super.load(context, config, paced);
    }

    abort() {
      if (this.pacing) clearTimeout(this.pacing);
      this.pacing = null;
      super.abort();
    }

    destroy() {
      if (this.pacing) clearTimeout(this.pacing);
      this.pacing = null;
      super.destroy();
    }
  };
}

// ShapingController: the control on the page; announces each profile on the bus.
const STATUS_MS = 500;

export class ShapingController {
  constructor(bus, select, status, pacer, initial) {
    this.bus = bus;
    this.select = select;
    this.status = status;
    this.pacer = pacer;
    for (const [key, p] of Object.entries(PROFILES)) {
      const o = document.createElement('option');
      o.value = key;
      o.textContent = p.label;
      select.append(o);
    }
    const given = parseProfile(initial);
    if (given && !PROFILES[initial]) {
      const o = document.createElement('option');
      o.value = initial;
      o.textContent = given.label;
      select.append(o);
    }
    select.value = given ? initial : 'off';
    this.onChange = () => this.apply(select.value);
    select.addEventListener('change', this.onChange);
    if (given) this.apply(initial);
    // The status counts down the seconds left in a phase.
    this.timer = setInterval(() => this.render(), STATUS_MS);
  }

  // The options go with the controller (a new one adds them again) and pacing stops.
  destroy() {
    this.select.removeEventListener('change', this.onChange);
    clearInterval(this.timer);
    this.timer = null;
    this.select.replaceChildren();
    this.status.textContent = '';
    this.pacer.set(PROFILES.off);
  }

  apply(key) {
    const profile = parseProfile(key) || PROFILES.off;
    this.pacer.set(profile);
    this.bus.emit(Events.SHAPING, { at: now(), label: profile.label, timeline: this.pacer.timeline() });
    this.bus.emit(Events.LOG, { name: 'network shaping', text: profile.label });
    this.render();
  }

  render() {
    const t = performance.now();
    const phase = this.pacer.timeline().find((p) => t < p.toMs);
    let text = 'segments load as fast as the network allows';
    if (phase && phase.kbps) {
      const left = Number.isFinite(phase.toMs) ? `, ${Math.ceil((phase.toMs - t) / 1000)} s left` : '';
      text = `segments paced to ${phase.kbps} kb/s${left}`;
    }
    if (this.status.textContent !== text) this.status.textContent = text;
  }
}
