// PNG charts of benchmark results: one panel per metric, concurrency on the x axis (log2 for
// lines, one group per level for bars), one line or bar per server.
import { createRequire } from 'node:module';
import { createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import * as PImage from 'pureimage';

interface Series {
  label: string;
  points: { x: number; y: number }[];
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
  /** Grouped bars (a few levels, as few as one) instead of lines. */
  bars?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const WIDTH = 560;
const HEIGHT = 400;
const MARGIN = { left: 70, right: 20, top: 40, bottom: 60 };

let fontFamily: string | undefined;
function font(): string {
  if (fontFamily) return fontFamily;
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  PImage.registerFont(join(dir, 'DejaVuSans.ttf'), 'DejaVuSans').loadSync();
  fontFamily = 'DejaVuSans';
  return fontFamily;
}

function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function drawPanel(ctx: PImage.Context, panel: Panel, offsetX: number): void {
  const family = font();
  const xs = [...new Set(panel.series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const yMax = niceMax(Math.max(...panel.series.flatMap((s) => s.points.map((p) => p.y)).filter(Number.isFinite), 0) * 1.05);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const logMin = Math.log2(Math.max(1, xs[0] ?? 1));
  const logMax = Math.log2(Math.max(2, xs.at(-1) ?? 2));
  const group = plotW / Math.max(1, xs.length);
  const px = panel.bars
    ? (x: number) => offsetX + MARGIN.left + (xs.indexOf(x) + 0.5) * group
    : (x: number) => offsetX + MARGIN.left + ((Math.log2(x) - logMin) / Math.max(1e-9, logMax - logMin)) * plotW;
  const py = (y: number) => MARGIN.top + plotH - (y / yMax) * plotH;

  ctx.fillStyle = '#000000';
  ctx.font = `16pt ${family}`;
  ctx.fillText(panel.title, offsetX + MARGIN.left, 24);
  ctx.strokeStyle = '#000000';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(offsetX + MARGIN.left, MARGIN.top);
  ctx.lineTo(offsetX + MARGIN.left, MARGIN.top + plotH);
  ctx.lineTo(offsetX + MARGIN.left + plotW, MARGIN.top + plotH);
  ctx.stroke();
  ctx.font = `11pt ${family}`;
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    ctx.strokeStyle = '#dddddd';
    ctx.beginPath();
    ctx.moveTo(offsetX + MARGIN.left + 1, py(y));
    ctx.lineTo(offsetX + MARGIN.left + plotW, py(y));
    ctx.stroke();
    ctx.fillStyle = '#000000';
    ctx.fillText(y >= 10 || y === 0 ? y.toFixed(0) : y.toFixed(1), offsetX + 8, py(y) + 4);
  }
  for (const x of xs) ctx.fillText(String(x), px(x) - 6, MARGIN.top + plotH + 18);
  ctx.fillText('concurrent streams', offsetX + MARGIN.left + plotW / 2 - 60, MARGIN.top + plotH + 34);
  ctx.fillText(panel.yLabel, offsetX + MARGIN.left + 4, MARGIN.top - 6);
  panel.series.forEach((series, index) => {
    const color = COLORS[index % COLORS.length];
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = 2;
    const points = series.points.filter((p) => Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    const legendX = offsetX + MARGIN.left + index * 170;
    ctx.fillRect(legendX, HEIGHT - 14, 14, 4);
    ctx.fillText(series.label, legendX + 20, HEIGHT - 8);
    if (panel.bars) {
      const width = (group * 0.8) / panel.series.length;
      for (const p of points) {
        const left = px(p.x) - group * 0.4 + index * width;
        ctx.fillRect(left, py(p.y), width - 4, py(0) - py(p.y));
        ctx.fillStyle = '#000000';
        ctx.fillText(p.y >= 10 ? p.y.toFixed(0) : p.y.toFixed(1), left, py(p.y) - 4);
        ctx.fillStyle = color;
      }
      return;
    }
    ctx.beginPath();
    points.forEach((p, i) => (i === 0 ? ctx.moveTo(px(p.x), py(p.y)) : ctx.lineTo(px(p.x), py(p.y))));
    ctx.stroke();
    for (const p of points) ctx.fillRect(px(p.x) - 3, py(p.y) - 3, 6, 6);
  });
}

/** Writes the panels side by side into one PNG. */
export async function writeChart(path: string, panels: Panel[]): Promise<void> {
  const image = PImage.make(WIDTH * panels.length, HEIGHT);
  const ctx = image.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, WIDTH * panels.length, HEIGHT);
  panels.forEach((panel, i) => drawPanel(ctx, panel, i * WIDTH));
  await PImage.encodePNGToStream(image, createWriteStream(path));
}
