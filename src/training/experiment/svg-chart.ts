// A small dependency-free SVG line-chart writer for the experiment's training curves: panels of
// series over a shared x axis. Every piece of text (titles, labels, series names) is escaped, so a
// name can never open a tag or an attribute; numbers are checked finite before they are written.

export interface Series {
  name: string;
  color: string;
  /** Points with y = null are gaps (nothing measured at that x). */
  points: { x: number; y: number | null }[];
}

export interface Panel {
  title: string;
  yLabel: string;
  yMin: number;
  yMax: number;
  series: Series[];
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const COLOR = /^#[0-9a-fA-F]{3,8}$/;
const num = (x: number) => {
  if (!Number.isFinite(x)) throw new Error(`svg chart: a coordinate is not finite (${x})`);
  return Number(x.toFixed(2)).toString();
};

const WIDTH = 760;
const PANEL_HEIGHT = 260;
const MARGIN = { left: 56, right: 190, top: 34, bottom: 40 };

function ticks(min: number, max: number, count: number): number[] {
  if (max <= min) return [min];
  return Array.from({ length: count + 1 }, (_, i) => min + ((max - min) * i) / count);
}

function panelSvg(panel: Panel, xMin: number, xMax: number, xLabel: string, top: number): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const x0 = MARGIN.left,
    y0 = top + MARGIN.top;
  const sx = (x: number) => x0 + (xMax > xMin ? ((x - xMin) / (xMax - xMin)) * plotW : plotW / 2);
  const clampY = (y: number) => Math.min(panel.yMax, Math.max(panel.yMin, y));
  const sy = (y: number) => y0 + plotH - ((clampY(y) - panel.yMin) / (panel.yMax - panel.yMin || 1)) * plotH;
  const out: string[] = [];
  out.push(`<text x="${num(x0)}" y="${num(top + 20)}" font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`);
  out.push(`<rect x="${num(x0)}" y="${num(y0)}" width="${num(plotW)}" height="${num(plotH)}" fill="none" stroke="#999"/>`);
  for (const t of ticks(panel.yMin, panel.yMax, 4)) {
    out.push(`<line x1="${num(x0)}" x2="${num(x0 + plotW)}" y1="${num(sy(t))}" y2="${num(sy(t))}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${num(x0 - 6)}" y="${num(sy(t) + 4)}" font-size="11" text-anchor="end">${escapeXml(Number(t.toFixed(2)).toString())}</text>`);
  }
  for (const t of ticks(xMin, xMax, Math.min(10, Math.max(1, xMax - xMin)))) {
    out.push(`<text x="${num(sx(t))}" y="${num(y0 + plotH + 16)}" font-size="11" text-anchor="middle">${escapeXml(Math.round(t).toString())}</text>`);
  }
  out.push(`<text x="${num(x0 + plotW / 2)}" y="${num(y0 + plotH + 34)}" font-size="12" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  out.push(
    `<text x="${num(14)}" y="${num(y0 + plotH / 2)}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${num(y0 + plotH / 2)})">${escapeXml(panel.yLabel)}</text>`,
  );
  panel.series.forEach((s, i) => {
    if (!COLOR.test(s.color)) throw new Error(`svg chart: series "${s.name}" has colour "${s.color}"; give #rgb or #rrggbb`);
    // Consecutive measured points form one polyline; a null starts a new one.
    const runs: string[][] = [[]];
    for (const p of s.points) {
      if (p.y === null || !Number.isFinite(p.y)) {
        if (runs[runs.length - 1].length) runs.push([]);
        continue;
      }
      runs[runs.length - 1].push(`${num(sx(p.x))},${num(sy(p.y))}`);
    }
    for (const run of runs) {
      if (run.length === 1) out.push(`<circle cx="${run[0].split(',')[0]}" cy="${run[0].split(',')[1]}" r="2" fill="${s.color}"/>`);
      else if (run.length > 1) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.8" points="${run.join(' ')}"/>`);
    }
    const ly = y0 + 8 + i * 18;
    out.push(`<line x1="${num(x0 + plotW + 12)}" x2="${num(x0 + plotW + 32)}" y1="${num(ly)}" y2="${num(ly)}" stroke="${s.color}" stroke-width="2.5"/>`);
    out.push(`<text x="${num(x0 + plotW + 38)}" y="${num(ly + 4)}" font-size="11">${escapeXml(s.name)}</text>`);
  });
  return out.join('\n');
}

/** An SVG document with the panels stacked, all over the same x range. */
export function lineChartSvg(options: { title: string; xLabel: string; panels: Panel[] }): string {
  const xs = options.panels.flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q.x)));
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  const height = 30 + options.panels.length * PANEL_HEIGHT;
  const body = options.panels.map((p, i) => panelSvg(p, xMin, xMax, options.xLabel, 30 + i * PANEL_HEIGHT)).join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${num(WIDTH / 2)}" y="20" font-size="15" font-weight="bold" text-anchor="middle">${escapeXml(options.title)}</text>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}
