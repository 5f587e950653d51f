/** The SVG chart of `npm run bench`: speed-up of ours over each baseline, log scale. */
import {BenchRow} from './harness';

const ROW = 22, LABEL = 430, BAR = 360, PAD = 10;

function escape(s: string) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function ratioChart(rows: BenchRow[]): string {
  const bars = rows.filter(r => r.baseline_ms != null && r.median_ms > 0);
  const ratios = bars.map(r => r.baseline_ms! / r.median_ms);
  const maxLog = Math.max(1, ...ratios.map(r => Math.abs(Math.log10(r))));
  const x0 = LABEL + BAR / 2;  // ratio 1 in the middle
  const scale = (BAR / 2) / maxLog;
  const height = PAD * 2 + ROW * (bars.length + 2);
  const lines = bars.map((r, i) => {
    const ratio = ratios[i];
    const y = PAD + ROW * (i + 1);
    const w = Math.log10(ratio) * scale;
    const colour = ratio >= 1 ? '#2a9d4b' : '#d1495b';
    const label = `${r.case} · ${r.backend} · ${r.variant} vs ${r.baseline}`;
    return `<text x="${LABEL - 6}" y="${y + 14}" text-anchor="end">${escape(label)}</text>` +
        `<rect x="${Math.min(x0, x0 + w)}" y="${y + 3}" width="${Math.max(1, Math.abs(w))}" height="${ROW - 6}" fill="${colour}"/>` +
        `<text x="${x0 + w + (w >= 0 ? 4 : -4)}" y="${y + 14}" text-anchor="${w >= 0 ? 'start' : 'end'}">${ratio.toFixed(2)}x</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${LABEL + BAR + 80}" height="${height}" ` +
      `font-family="sans-serif" font-size="11">\n` +
      `<text x="${PAD}" y="${PAD + 12}" font-weight="bold">Speed-up of tfjs-vision-ops over the baseline ` +
      `(baseline ms / ours ms, log scale; right of the line = faster)</text>\n` +
      `<line x1="${x0}" y1="${PAD + ROW}" x2="${x0}" y2="${height - PAD}" stroke="#333"/>\n` +
      lines.join('\n') + '\n</svg>\n';
}
