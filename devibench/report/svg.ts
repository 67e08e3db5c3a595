/**
 * Inline SVG line charts for the report, drawn by hand so the HTML needs no script or external
 * asset. The y axis is accuracy 0-100%; the x axis is categorical (one evenly spaced slot per
 * bitrate rung), which reads like a log axis for the usual doubling ladders and never squashes the
 * low rungs together.
 */

/** Escapes text for HTML and SVG content and for double-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  readonly dashed?: boolean;
  /** Accuracy 0..1 at each x slot; null = no data there (the line breaks). */
  readonly values: readonly (number | null)[];
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabels: readonly string[];
  readonly xTitle?: string;
  readonly series: readonly ChartSeries[];
  readonly width?: number;
  readonly height?: number;
  /** Smaller type and no legend, for the per-task-type grid. */
  readonly small?: boolean;
}

const fmt = (v: number) => (Math.round(v * 10) / 10).toString();

export function lineChart(o: ChartOptions): string {
  const small = o.small === true;
  const width = o.width ?? (small ? 300 : 720);
  const height = o.height ?? (small ? 200 : 360);
  const font = small ? 10 : 12;
  const m = { left: small ? 34 : 48, right: small ? 10 : 20, top: small ? 30 : 44, bottom: small ? 30 : 46 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const slots = Math.max(1, o.xLabels.length);
  const step = plotW / slots;
  const xAt = (k: number) => m.left + step * (k + 0.5);
  const yAt = (acc: number) => m.top + plotH * (1 - Math.min(1, Math.max(0, acc)));

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(o.title)}" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="${font}">`,
    `<title>${escapeHtml(o.title)}</title>`,
    `<text x="${m.left}" y="${small ? 16 : 20}" font-weight="600" font-size="${font + 2}">${escapeHtml(o.title)}</text>`,
  );

  // Grid and y axis: 0, 25, 50, 75, 100 %.
  for (const p of [0, 25, 50, 75, 100]) {
    const y = fmt(yAt(p / 100));
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${y}" y2="${y}" stroke="${p === 0 ? "#999" : "#e3e3e3"}" shape-rendering="crispEdges"/>`,
      `<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#555">${p}%</text>`,
    );
  }
  // x axis labels.
  o.xLabels.forEach((label, k) => {
    parts.push(
      `<text x="${fmt(xAt(k))}" y="${fmt(m.top + plotH + font + 6)}" text-anchor="middle" fill="#555">${escapeHtml(label)}</text>`,
    );
  });
  if (o.xTitle !== undefined) {
    parts.push(
      `<text x="${fmt(m.left + plotW / 2)}" y="${height - 6}" text-anchor="middle" fill="#555">${escapeHtml(o.xTitle)}</text>`,
    );
  }

  // Lines, broken where a value is missing.
  for (const s of o.series) {
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) {
        parts.push(
          `<polyline fill="none" stroke="${escapeHtml(s.color)}" stroke-width="${small ? 1.5 : 2.5}"` +
            `${s.dashed === true ? ' stroke-dasharray="6 4"' : ""} points="${run.join(" ")}"/>`,
        );
      }
      run = [];
    };
    s.values.forEach((v, k) => {
      if (v === null) flush();
      else run.push(`${fmt(xAt(k))},${fmt(yAt(v))}`);
    });
    flush();
  }

  // Points and their labels: at each slot the highest value is labelled above its point and the
  // others below, so two close lines do not print on top of each other.
  for (let k = 0; k < slots; k++) {
    const here = o.series
      .map((s) => ({ s, v: s.values[k] ?? null }))
      .filter((e): e is { s: ChartSeries; v: number } => e.v !== null)
      .sort((a, b) => b.v - a.v);
    const text = (v: number) => `${(v * 100).toFixed(small ? 0 : 1)}%`;
    const tie = here.length > 1 && here.every((e) => text(e.v) === text(here[0]?.v ?? 0));
    here.forEach(({ s, v }, rank) => {
      const x = fmt(xAt(k));
      const y = yAt(v);
      parts.push(
        `<circle cx="${x}" cy="${fmt(y)}" r="${small ? 3 : 4.5}" fill="${escapeHtml(s.color)}"><title>${escapeHtml(
          `${s.name}: ${(v * 100).toFixed(1)}%`,
        )}</title></circle>`,
      );
      // Equal values print one neutral label instead of two coloured copies of the same number.
      if (tie && rank > 0) return;
      const color = tie ? "#333" : escapeHtml(s.color);
      let labelX = x;
      let anchor = "middle";
      let labelY = rank === 0 ? y - (small ? 6 : 9) : y + (small ? 12 : 17) + (rank - 1) * (font + 2);
      if (labelY > m.top + plotH - 2) {
        // Below the axis it would sit on the bitrate labels: put it beside the point instead.
        labelX = fmt(xAt(k) + (small ? 5 : 8));
        anchor = "start";
        labelY = y - 4 - (rank - 1) * (font + 2);
      }
      parts.push(
        `<text x="${labelX}" y="${fmt(labelY)}" text-anchor="${anchor}" fill="${color}" font-weight="600">${text(v)}</text>`,
      );
    });
  }

  if (!small) {
    // Legend, top right on the title's line, clear of points near 100%.
    const legendY = 16;
    let x = width - m.right;
    for (const s of [...o.series].reverse()) {
      const textW = s.name.length * font * 0.6;
      x -= textW;
      parts.push(`<text x="${fmt(x)}" y="${legendY}" dominant-baseline="middle">${escapeHtml(s.name)}</text>`);
      x -= 28;
      parts.push(
        `<line x1="${fmt(x)}" x2="${fmt(x + 22)}" y1="${legendY}" y2="${legendY}" stroke="${escapeHtml(s.color)}" ` +
          `stroke-width="2.5"${s.dashed === true ? ' stroke-dasharray="6 4"' : ""}/>`,
      );
      x -= 16;
    }
  }
  parts.push("</svg>");
  return parts.join("\n");
}
