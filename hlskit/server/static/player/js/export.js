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

export class ExportController {
  constructor(jsonButton, csvButton, state, chart) {
    const save = (name, type, text) => {
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([text], { type }));
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    };
    const stamp = () => `hlskit-session-${now().toFixed(0)}s`;
    jsonButton.addEventListener('click', () => save(`${stamp()}.json`, 'application/json',
      JSON.stringify({ state: state.state(), chart: chart.points() }, null, 1)));
    csvButton.addEventListener('click', () => save(`${stamp()}.csv`, 'text/csv', toCsv(chart.points())));
  }
}
