// StatsController: the live panel, refreshed twice a second from the engine and the record.
import { Events } from './bus.js';
import { label, kbps } from './levels.js';
import { SUBTITLES, trackLabel } from './renditions.js';

const REFRESH_MS = 500;
// The switches list on the page keeps its newest lines, as the event log does.
export const MAX_SWITCH_LINES = 200;

export class StatsController {
  constructor(bus, root, switchesRoot, state, levels) {
    this.bus = bus;
    this.root = root;
    this.switchesRoot = switchesRoot;
    this.state = state;
    this.levels = levels;
    this.shownSwitches = 0; // switches ever recorded that the list already shows
    this.registerListeners();
    this.timer = setInterval(() => this.render(), REFRESH_MS);
  }

  registerListeners() {
    this.bus.on(Events.LEVEL_SWITCHED, this.onLevelSwitched, this);
    this.bus.on(Events.MODE, this.render, this);
  }

  unregisterListeners() {
    this.bus.off(Events.LEVEL_SWITCHED, this.onLevelSwitched, this);
    this.bus.off(Events.MODE, this.render, this);
  }

  // The panel and the list go back to their empty look, ready for the next player.
  destroy() {
    this.unregisterListeners();
    clearInterval(this.timer);
    this.timer = null;
    for (const el of this.root.querySelectorAll('[data-stat]')) el.textContent = '–';
    this.switchesRoot.replaceChildren();
  }

  onLevelSwitched() {
    this.renderSwitches();
    this.render();
  }

  set(name, text) {
    const el = this.root.querySelector(`[data-stat="${name}"]`);
    if (el && el.textContent !== text) el.textContent = text;
  }

  render() {
    const s = this.state.current();
    const def = this.levels.at(s.currentLevel);
    const loading = this.levels.at(s.loadLevel);
    this.set('engine', s.engine === 'hls.js' ? `hls.js ${s.hlsVersion}` : s.engine);
    this.set('definition', def ? label(def) : (s.videoHeight ? `${s.videoWidth}×${s.videoHeight}` : '–'));
    this.set('mode', s.engine === 'native' ? 'browser (native)' : (s.autoLevelEnabled ? 'Auto' : 'chosen'));
    this.set('declared', def ? kbps(def.bitrate) + (def.averageBitrate ? ` (avg ${kbps(def.averageBitrate)})` : '') : '–');
    this.set('estimate', kbps(s.bandwidthEstimate));
    this.set('loading', loading ? loading.name : '–');
    // Audio with the definitions (muxed) has no track to name; subtitles then have none either.
    this.set('audio', s.audio ? trackLabel(s.audio) : (s.engine === 'hls.js' ? 'with the video' : '–'));
    const anySubtitles = this.state.renditions && this.state.renditions.all(SUBTITLES).length > 0;
    this.set('subtitles', s.subtitles ? trackLabel(s.subtitles) : (anySubtitles ? 'off' : 'none in this stream'));
    this.set('buffer', `${s.bufferAhead.toFixed(1)} s`);
    this.set('time', `${s.currentTime.toFixed(1)} s${s.duration ? ' / ' + s.duration.toFixed(1) + ' s' : ''}`);
    this.set('dropped', s.droppedFrames == null ? '–' : `${s.droppedFrames} of ${s.totalFrames}`);
    const { keys, decrypted, stalls } = this.state;
    this.set('crypto', `${keys.length} / ${decrypted}`);
    const last = stalls.last();
    this.set('stalls', `${stalls.total}${last && last.end == null ? ' (stalled now)' : ''}`);
  }

  // Appends the switches recorded since the last call (the record is a ring: count, not index).
  renderSwitches() {
    const record = this.state.switches;
    for (const sw of record.since(this.shownSwitches)) {
      const li = document.createElement('li');
      const from = this.levels.at(sw.from);
      li.textContent = `${sw.at.toFixed(1)} s (video ${sw.time.toFixed(1)} s): ${from ? from.name + ' → ' : ''}${label(this.levels.at(sw.to))}${sw.auto ? '' : ' (chosen)'}`;
      this.switchesRoot.append(li);
    }
    this.shownSwitches = record.total;
    while (this.switchesRoot.children.length > MAX_SWITCH_LINES) this.switchesRoot.firstElementChild.remove();
  }
}
