// ExportController: the session's record as files a person keeps or plots elsewhere: JSON (the
// player state plus the chart's points) and CSV (one row per chart point, one time axis).
import { now } from './bus.js';

const CSV_COLUMNS = ['at', 'kind', 'level', 'definition', 'bitrate', 'estimate', 'buffer', 'sn', 'from', 'to'];

function cell(v) {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(points) {
  const rows = [
    ...points.fragments.map((f) => ({ at: f.at, kind: 'fragment', level: f.level, definition: f.name, bitrate: f.bitrate, sn: f.sn })),
    ...points.samples.map((s) => ({ at: s.at, kind: 'sample', level: s.level, definition: s.name, estimate: s.estimate, buffer: s.buffer })),
    ...points.switches.map((s) => ({ at: s.at, kind: 'switch', level: s.to, definition: s.name, from: s.from, to: s.to })),
  ].sort((a, b) => a.at - b.at);
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

// How long a download's object URL lives: the browser has started the download by then.
const REVOKE_MS = 10_000;

export class ExportController {
  constructor(jsonButton, csvButton, state, chart) {
    this.jsonButton = jsonButton;
    this.csvButton = csvButton;
    this.pending = new Map(); // timeout id → object URL still to revoke
    const stamp = () => `hlskit-session-${now().toFixed(0)}s`;
    this.onJson = () => this.save(`${stamp()}.json`, 'application/json',
      JSON.stringify({ state: state.state(), chart: chart.points() }, null, 1));
    this.onCsv = () => this.save(`${stamp()}.csv`, 'text/csv', toCsv(chart.points()));
    jsonButton.addEventListener('click', this.onJson);
    csvButton.addEventListener('click', this.onCsv);
  }

  save(name, type, text) {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type }));
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    const url = a.href;
    const id = setTimeout(() => { this.pending.delete(id); URL.revokeObjectURL(url); }, REVOKE_MS);
    this.pending.set(id, url);
  }

  destroy() {
    this.jsonButton.removeEventListener('click', this.onJson);
    this.csvButton.removeEventListener('click', this.onCsv);
    for (const [id, url] of this.pending) {
      clearTimeout(id);
      URL.revokeObjectURL(url);
    }
    this.pending.clear();
  }
}
