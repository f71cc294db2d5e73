// StatsController: the live panel, refreshed twice a second from the engine and the record.
import { Events } from './bus.js';
import { label, kbps } from './levels.js';

export class StatsController {
  constructor(bus, root, switchesRoot, state) {
    this.root = root;
    this.switchesRoot = switchesRoot;
    this.state = state;
    this.shownSwitches = 0;
    bus.on(Events.LEVEL_SWITCHED, () => { this.renderSwitches(); this.render(); });
    bus.on(Events.MODE, () => this.render());
    setInterval(() => this.render(), 500);
  }

  set(name, text) {
    const el = this.root.querySelector(`[data-stat="${name}"]`);
    if (el && el.textContent !== text) el.textContent = text;
  }

  render() {
    const s = this.state.state();
    const def = s.levels[s.currentLevel];
    const loading = s.levels[s.loadLevel];
    this.set('engine', s.engine === 'hls.js' ? `hls.js ${s.hlsVersion}` : s.engine);
    this.set('definition', def ? label(def) : (s.videoHeight ? `${s.videoWidth}×${s.videoHeight}` : '–'));
    this.set('mode', s.engine === 'native' ? 'browser (native)' : (s.autoLevelEnabled ? 'Auto' : 'chosen'));
    this.set('declared', def ? kbps(def.bitrate) + (def.averageBitrate ? ` (avg ${kbps(def.averageBitrate)})` : '') : '–');
    this.set('estimate', kbps(s.bandwidthEstimate));
    this.set('loading', loading ? loading.name : '–');
    this.set('buffer', `${s.bufferAhead.toFixed(1)} s`);
    this.set('time', `${s.currentTime.toFixed(1)} s${s.duration ? ' / ' + s.duration.toFixed(1) + ' s' : ''}`);
    this.set('dropped', s.droppedFrames == null ? '–' : `${s.droppedFrames} of ${s.totalFrames}`);
    this.set('crypto', `${s.keys.length} / ${s.fragmentsDecrypted}`);
    const open = s.stalls.filter((x) => x.end == null).length;
    this.set('stalls', `${s.stalls.length}${open ? ' (stalled now)' : ''}`);
  }

  renderSwitches() {
    const { switches, levels } = this.state.state();
    for (const sw of switches.slice(this.shownSwitches)) {
      const li = document.createElement('li');
      const from = levels[sw.from];
      li.textContent = `${sw.at.toFixed(1)} s (video ${sw.time.toFixed(1)} s): ${from ? from.name + ' → ' : ''}${label(levels[sw.to])}${sw.auto ? '' : ' (chosen)'}`;
      this.switchesRoot.append(li);
    }
    this.shownSwitches = switches.length;
  }
}
