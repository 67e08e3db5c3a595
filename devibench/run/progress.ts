/**
 * A progress bar with an ETA for long runs. On a terminal it redraws one line; elsewhere (CI logs,
 * pipes) it prints a line at every 5% so logs stay short. Time comes from the injected clock.
 */
export interface ProgressSink {
  write(text: string): void;
  readonly isTTY: boolean;
}

export class ProgressBar {
  private done = 0;
  private lastPct = -1;
  private readonly startMs: number;

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly sink: ProgressSink,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.startMs = now();
  }

  tick(n = 1, note = ""): void {
    this.done = Math.min(this.total, this.done + n);
    const pct = this.total === 0 ? 100 : Math.floor((100 * this.done) / this.total);
    if (!this.sink.isTTY && pct < 100 && Math.floor(pct / 5) === Math.floor(this.lastPct / 5)) return;
    this.lastPct = pct;
    const elapsed = (this.now() - this.startMs) / 1000;
    const eta = this.done > 0 ? (elapsed / this.done) * (this.total - this.done) : NaN;
    const width = 24;
    const fill = Math.round((width * pct) / 100);
    const line = `${this.label} [${"#".repeat(fill)}${"-".repeat(width - fill)}] ${this.done}/${this.total} ${pct}% ` +
      `elapsed ${fmtSec(elapsed)} eta ${Number.isFinite(eta) ? fmtSec(eta) : "?"}${note ? `  ${note}` : ""}`;
    this.sink.write(this.sink.isTTY ? `\r\x1b[2K${line}${this.done === this.total ? "\n" : ""}` : `${line}\n`);
  }
}

export function fmtSec(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, "0")}s`;
}

/** Runs `work` over items with at most `concurrency` at once; results keep the items' order. */
export async function runPool<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return out;
}
