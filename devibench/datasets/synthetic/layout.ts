/**
 * Where the text objects of a synthetic clip go, and the rules that make each kind of question
 * about the target unambiguous. The rules are plain geometry on the panels, used twice: to decide
 * which questions a layout allows, and (in the tests) to check every generated clip again.
 *
 *  - position: the target is the extreme in the asked direction by at least 15% of the frame's
 *    width (left/right) or height (top/bottom) from every other object, centre to centre, and on
 *    that side of the frame (its outer 40%); a corner needs the target in the outer 35% both ways,
 *    no other object in its quarter and every other object clearly away in one of the two directions; "middle" needs the target near the frame's centre
 *    and every other object at least 15% of the height further from it.
 *  - size: the target's text is at least 1.4x (big) or at most 0.7x (small) every other object's
 *    text height, and its panel is the tallest and largest (or the shortest and smallest).
 *  - bare ("What does it say?"): the target's text is at least 1.5x every other's, it is the
 *    object nearest the centre by 10% of the height, and every other object sits towards an edge.
 */

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A text object as the rules see it: its panel and its text height (the first line's size). */
export interface Placed extends Box {
  readonly fontPx: number;
}

export const DIRECTIONS = ["left", "right", "top", "bottom", "top left", "top right", "bottom left", "bottom right", "middle"] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Clear margins of the rules, as fractions of the frame (position) or ratios of text heights (size). */
export const RULES = { positionMargin: 0.15, sideLimit: 0.4, cornerLimit: 0.35, bigRatio: 1.4, smallRatio: 0.7, bareRatio: 1.5, bareCentreMargin: 0.1, bareEdge: 0.25 } as const;

const cx = (b: Box) => b.x + b.width / 2;
const cy = (b: Box) => b.y + b.height / 2;
const area = (b: Box) => b.width * b.height;

/** Distance from the frame's centre to the box's centre, px. */
export function centreDistance(b: Box, w: number, h: number): number {
  return Math.hypot(cx(b) - w / 2, cy(b) - h / 2);
}

/** Every direction in which the target is the clear extreme (see the rules above). */
export function validDirections(t: Box, others: readonly Box[], w: number, h: number): Direction[] {
  const mx = RULES.positionMargin * w;
  const my = RULES.positionMargin * h;
  const lim = RULES.sideLimit;
  const all = (f: (o: Box) => boolean) => others.every(f);
  const out: Direction[] = [];
  if (cx(t) < lim * w && all((o) => cx(o) - cx(t) >= mx)) out.push("left");
  if (cx(t) > (1 - lim) * w && all((o) => cx(t) - cx(o) >= mx)) out.push("right");
  if (cy(t) < lim * h && all((o) => cy(o) - cy(t) >= my)) out.push("top");
  if (cy(t) > (1 - lim) * h && all((o) => cy(t) - cy(o) >= my)) out.push("bottom");
  for (const [name, sx, sy] of [["top left", -1, -1], ["top right", 1, -1], ["bottom left", -1, 1], ["bottom right", 1, 1]] as const) {
    // Signed offsets from the centre: positive means towards the corner.
    const ox = (b: Box) => sx * (cx(b) - w / 2);
    const oy = (b: Box) => sy * (cy(b) - h / 2);
    // "In the top right corner": the target's centre in the outer 35% of the frame both ways.
    if (ox(t) < (0.5 - RULES.cornerLimit) * w || oy(t) < (0.5 - RULES.cornerLimit) * h) continue;
    if (all((o) => !(ox(o) > 0 && oy(o) > 0) && (ox(t) - ox(o) >= mx || oy(t) - oy(o) >= my))) out.push(name);
  }
  const dt = centreDistance(t, w, h);
  if (Math.abs(cx(t) - w / 2) <= mx && Math.abs(cy(t) - h / 2) <= my && all((o) => centreDistance(o, w, h) - dt >= my)) out.push("middle");
  return out;
}

/** Whether the target is clearly the biggest ("big") or the smallest ("small") text. */
export function sizeHolds(t: Placed, others: readonly Placed[], which: "big" | "small"): boolean {
  if (others.length === 0) return false;
  if (which === "big") {
    return others.every((o) => t.fontPx >= RULES.bigRatio * o.fontPx && t.height >= o.height && area(t) >= area(o));
  }
  return others.every((o) => t.fontPx <= RULES.smallRatio * o.fontPx && t.height <= o.height && area(t) <= area(o));
}

/** Whether the target is the one text anyone would read first: large, central, the rest small and at the edges. */
export function bareHolds(t: Placed, others: readonly Placed[], w: number, h: number): boolean {
  if (others.length === 0) return false;
  const dt = centreDistance(t, w, h);
  return others.every(
    (o) =>
      t.fontPx >= RULES.bareRatio * o.fontPx &&
      area(t) >= area(o) &&
      centreDistance(o, w, h) - dt >= RULES.bareCentreMargin * h &&
      (Math.abs(cx(o) - w / 2) > RULES.bareEdge * w || Math.abs(cy(o) - h / 2) > RULES.bareEdge * h),
  );
}

export function overlaps(a: Box, b: Box, gap: number): boolean {
  return a.x < b.x + b.width + gap && b.x < a.x + a.width + gap && a.y < b.y + b.height + gap && b.y < a.y + a.height + gap;
}

/** A box grown by `by` on every side and cut to the frame. */
export function grow(b: Box, by: number, w: number, h: number): Box {
  const x = Math.max(0, b.x - by);
  const y = Math.max(0, b.y - by);
  return { x, y, width: Math.min(w, b.x + b.width + by) - x, height: Math.min(h, b.y + b.height + by) - y };
}

/** Where a box's centre may go: a rectangle of centres, as fractions of the frame. */
export interface Zone {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
}

/** The frame in a 3 x 3 grid: cell (col, row) as a zone of centres. */
export function cellZone(col: number, row: number): Zone {
  return { x0: col / 3, x1: (col + 1) / 3, y0: row / 3, y1: (row + 1) / 3 };
}

/**
 * Places a box of the given size with its centre drawn uniformly in the zone, kept inside the
 * frame by `margin` px and on even pixels (4:2:0 chroma). `u`, `v` are the two random draws.
 */
export function placeIn(zone: Zone, width: number, height: number, w: number, h: number, margin: number, u: number, v: number): Box {
  const cxPx = (zone.x0 + (zone.x1 - zone.x0) * u) * w;
  const cyPx = (zone.y0 + (zone.y1 - zone.y0) * v) * h;
  const x = Math.min(Math.max(margin, Math.round(cxPx - width / 2)), w - margin - width) & ~1;
  const y = Math.min(Math.max(margin, Math.round(cyPx - height / 2)), h - margin - height) & ~1;
  return { x, y, width, height };
}
