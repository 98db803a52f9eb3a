// latest.svg: horizontal bars, one per figure, median as the bar and min-max as a whisker, in three
// panels (throughput, ratios, memory) with their own scales. Written by hand: a few rects and lines.

import { formatBytes } from './context.ts';
import type { Results } from './report.ts';
import { hardwareLine, softwareLine } from './report.ts';
import { FAMILIES, type FamilyName, type Figure, fmt } from './runner.ts';

const WIDTH = 980;
const LABEL_W = 300;
const BAR_X = LABEL_W + 10;
const BAR_W = 520;
const ROW = 20;
const BAR_H = 13;

const COLORS: Record<FamilyName, string> = {
  openssl: '#8a8a8a',
  core: '#2563a8',
  file: '#2563a8',
  memory: '#2563a8',
  peers: '#d9822b',
  s3: '#2f855a',
  browser: '#805ad5',
};

const TITLES: Record<FamilyName, string> = {
  openssl: 'Ceiling: OpenSSL AES-256-GCM, 16 KiB blocks',
  core: 'Core, in memory',
  file: 'File pipeline (fs -> encrypt -> fs)',
  memory: 'Peak RSS',
  peers: 'Peers, same file, same rounds',
  s3: 'S3, local server',
  browser: 'Chromium, WebCrypto in the page',
};

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface Line {
  value: number;
  label: string;
}

function color(f: Figure): string {
  if (f.name === 'file_pipeline_copy' || f.name.startsWith('peak_rss_mib_passthrough')) return COLORS.openssl;
  return COLORS[f.family];
}

/** One panel; returns its SVG and its height. */
function panel(title: string, figures: Figure[], y0: number, lines: Line[]): { svg: string; height: number } {
  const unit = figures[0]!.unit;
  const top = Math.max(...figures.map((f) => f.max), ...lines.map((l) => l.value));
  const x = (v: number) => BAR_X + (v / top) * BAR_W;
  const out: string[] = [];
  out.push(`<text x="20" y="${y0 + 14}" class="panel">${esc(title)}</text>`);
  let y = y0 + 30;
  const bodyTop = y;
  let family: FamilyName | undefined;
  for (const f of figures) {
    if (f.family !== family && unit === 'MB/s') {
      family = f.family;
      out.push(`<text x="20" y="${y + 13}" class="group">${esc(TITLES[family])}</text>`);
      y += ROW;
    }
    const cy = y + ROW / 2;
    const faded = /decrypt|download/.test(f.name) ? ' fill-opacity="0.65"' : '';
    const size = f.bytes === undefined || f.unit === 'x' ? '' : ` (${formatBytes(f.bytes)})`;
    out.push(
      `<text x="${LABEL_W}" y="${cy + 4}" class="label" text-anchor="end">${esc(f.name + size)}</text>`,
    );
    out.push(
      `<rect x="${BAR_X}" y="${cy - BAR_H / 2}" width="${Math.max(1, x(f.median) - BAR_X).toFixed(1)}" ` +
        `height="${BAR_H}" fill="${color(f)}"${faded}/>`,
    );
    if (f.max > f.min) {
      const [a, b] = [x(f.min).toFixed(1), x(f.max).toFixed(1)];
      out.push(
        `<path d="M${a} ${cy}H${b}M${a} ${cy - 4}V${cy + 4}M${b} ${cy - 4}V${cy + 4}" class="whisker"/>`,
      );
    }
    out.push(
      `<text x="${(x(f.max) + 6).toFixed(1)}" y="${cy + 4}" class="value">${fmt(f.median, unit)}</text>`,
    );
    y += ROW;
  }
  for (const line of lines) {
    const lx = x(line.value).toFixed(1);
    out.push(`<line x1="${lx}" y1="${bodyTop - 4}" x2="${lx}" y2="${y}" class="ref"/>`);
    out.push(
      `<text x="${lx}" y="${bodyTop - 7}" class="reflabel" text-anchor="middle">${esc(line.label)}</text>`,
    );
  }
  return { svg: out.join('\n'), height: y - y0 + 16 };
}

/**
 * The ratios on a log scale around 1: a bar to the right is sealstream faster by that factor, to the
 * left slower, so 2x faster and 2x slower look the same size.
 */
function ratioPanel(title: string, figures: Figure[], y0: number): { svg: string; height: number } {
  const logs = figures.flatMap((f) => [f.min, f.max, f.median]).map((v) => Math.abs(Math.log10(v)));
  const span = Math.max(Math.log10(2), ...logs);
  const center = BAR_X + BAR_W / 2;
  const x = (v: number) => center + (Math.log10(v) / span) * (BAR_W / 2);
  const out: string[] = [];
  out.push(`<text x="20" y="${y0 + 14}" class="panel">${esc(title)}</text>`);
  let y = y0 + 30;
  const bodyTop = y;
  out.push(`<text x="${center - 8}" y="${bodyTop - 7}" class="reflabel" text-anchor="end">slower</text>`);
  out.push(`<text x="${center + 8}" y="${bodyTop - 7}" class="reflabel">faster</text>`);
  for (const f of figures) {
    const cy = y + ROW / 2;
    const faded = /decrypt|download/.test(f.name) ? ' fill-opacity="0.65"' : '';
    const [a, b] = [Math.min(center, x(f.median)), Math.max(center, x(f.median))];
    out.push(
      `<text x="${LABEL_W}" y="${cy + 4}" class="label" text-anchor="end">${esc(f.name)}</text>`,
      `<rect x="${a.toFixed(1)}" y="${cy - BAR_H / 2}" width="${Math.max(1, b - a).toFixed(1)}" ` +
        `height="${BAR_H}" fill="${color(f)}"${faded}/>`,
    );
    if (f.max > f.min) {
      const [lo, hi] = [x(f.min).toFixed(1), x(f.max).toFixed(1)];
      out.push(
        `<path d="M${lo} ${cy}H${hi}M${lo} ${cy - 4}V${cy + 4}M${hi} ${cy - 4}V${cy + 4}" class="whisker"/>`,
      );
    }
    // Right of the bar or whisker; for a ratio below 1, right of the 1 line, where its row is empty.
    const labelX = Math.max(x(f.max), center) + 6;
    out.push(`<text x="${labelX.toFixed(1)}" y="${cy + 4}" class="value">${fmt(f.median, 'x')}x</text>`);
    y += ROW;
  }
  out.push(`<line x1="${center}" y1="${bodyTop - 4}" x2="${center}" y2="${y}" class="ref"/>`);
  return { svg: out.join('\n'), height: y - y0 + 16 };
}

/** Splits text into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

export function renderSvg(results: Results): string {
  const ordered = FAMILIES.flatMap((fam) => results.figures.filter((f) => f.family === fam));
  const byName = new Map(results.figures.map((f) => [f.name, f]));
  const parts: string[] = [];
  let y = 20;
  parts.push(
    `<text x="20" y="${y + 8}" class="title">sealstream bench${results.mode === 'quick' ? ' (--quick: small sizes)' : ''}, ${esc(results.date.slice(0, 10))}</text>`,
  );
  y += 26;
  for (const line of [hardwareLine(results.machine), softwareLine(results.machine)]) {
    parts.push(`<text x="20" y="${y}" class="machine">${esc(line)}</text>`);
    y += 16;
  }
  parts.push(
    `<text x="20" y="${y}" class="machine">Bars: median over repeated runs; whiskers: min to max. MB/s = 10^6 bytes of plaintext per second.</text>`,
  );
  y += 16;

  const throughput = ordered.filter((f) => f.unit === 'MB/s');
  const ratios = ordered.filter((f) => f.unit === 'x');
  const memory = ordered.filter((f) => f.unit === 'MiB');
  const ceiling = byName.get('openssl_aes256gcm_16k');
  const sections: Array<[string, Figure[], Line[]]> = [
    [
      'Throughput, MB/s (longer is faster)',
      throughput,
      ceiling ? [{ value: ceiling.median, label: 'ceiling, 1 core' }] : [],
    ],
    ['Peak RSS, MiB (must not grow with the stream)', memory, []],
  ];
  for (const [title, figures, lines] of sections) {
    if (figures.length === 0) continue;
    const p = panel(title, figures, y, lines);
    parts.push(p.svg);
    y += p.height;
    if (title.startsWith('Throughput') && ratios.length > 0) {
      const r = ratioPanel('Ratios, sealstream / other, log scale (1 = as fast)', ratios, y);
      parts.push(r.svg);
      y += r.height;
    }
  }
  if (results.skipped.length > 0) {
    parts.push(`<text x="20" y="${y + 6}" class="panel">Not measured</text>`);
    y += 12;
    for (const s of results.skipped) {
      for (const line of wrap(`${s.what}: ${s.reason}`, 150)) {
        y += 15;
        parts.push(`<text x="20" y="${y}" class="skip">${esc(line)}</text>`);
      }
    }
    y += 10;
  }
  const height = y + 14;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
<style>
.title { font-size: 18px; font-weight: bold; fill: #1a1a1a; }
.machine { font-size: 11px; fill: #555; }
.panel { font-size: 14px; font-weight: bold; fill: #1a1a1a; }
.group { font-size: 12px; font-style: italic; fill: #444; }
.label { font-size: 12px; font-family: DejaVu Sans Mono, Menlo, Consolas, monospace; fill: #1a1a1a; }
.value { font-size: 12px; fill: #1a1a1a; }
.whisker { stroke: #1a1a1a; stroke-width: 1.2; fill: none; }
.ref { stroke: #b91c1c; stroke-width: 1.2; stroke-dasharray: 5 4; }
.reflabel { font-size: 11px; fill: #b91c1c; }
.skip { font-size: 11px; fill: #777; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
${parts.join('\n')}
</svg>
`;
}
