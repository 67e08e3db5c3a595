/**
 * Camera -> region pre-filter -> the track the browser's encoder sends.
 *
 * The browser's encoders have no region control, so the region map is applied in the pixel domain
 * before them (the route encoder/README.md measures for encoders without ROI): frames are drawn to
 * a canvas, the parts the chat does not ask about are blurred with encoder/prefilter's
 * `RoiPrefilter.applyRgba` (the same code the headless publisher uses on I420), and the canvas is
 * captured as the outgoing track. The encoder then spends few bits on the smooth background and
 * the rest on the region. Without a map, frames pass through untouched.
 *
 * Frames are pushed one at a time (`captureStream(0)` + `requestFrame()`), paced to the frame-rate
 * target the server sends, so the encoder never sees frames the AI would not use.
 *
 * Standard APIs only (canvas 2D, HTMLVideoElement, captureStream), so it works beyond Chromium.
 */
import type { ImportanceMap } from "../../encoder/importance/map.ts";
import { RoiPrefilter } from "../../encoder/prefilter/index.ts";

export interface PipelineStats {
  readonly framesOut: number;
  readonly framesFiltered: number;
  /** Mean milliseconds spent filtering a frame over the last frames (null before the first). */
  readonly filterMs: number | null;
}

type CaptureTrack = MediaStreamTrack & { requestFrame?: () => void };

export class CameraPipeline {
  readonly track: MediaStreamTrack;
  readonly width: number;
  readonly height: number;
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly prefilter = new RoiPrefilter();
  private map: ImportanceMap | null = null;
  private fps: number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private nextDueMs = 0;
  private framesOut = 0;
  private framesFiltered = 0;
  private filterMsAvg: number | null = null;
  private stopped = false;

  /** `video` plays the camera stream (it may be the visible preview). */
  constructor(private readonly video: HTMLVideoElement, fps: number, degradation: "balanced" | "maintain-resolution" | "maintain-framerate" = "balanced") {
    this.width = video.videoWidth;
    this.height = video.videoHeight;
    if (!(this.width > 0 && this.height > 0)) throw new Error("the camera video has no size yet; wait for loadedmetadata");
    this.fps = fps;
    this.canvas = document.createElement("canvas");
    this.canvas.width = this.width;
    this.canvas.height = this.height;
    // willReadFrequently keeps the canvas in CPU memory: every filtered frame is read back.
    const ctx = this.canvas.getContext("2d", { willReadFrequently: true, alpha: false });
    if (!ctx) throw new Error("this browser gives no 2D canvas context");
    this.ctx = ctx;
    const stream = this.canvas.captureStream(0);
    const track = stream.getVideoTracks()[0];
    if (!track) throw new Error("canvas.captureStream gave no video track");
    // The content hint carries the same choice as setParameters' degradationPreference, for
    // browsers that take only one of them (W3C mst-content-hint §3: "detail" keeps resolution,
    // "motion" keeps frame rate, "" lets the browser balance).
    track.contentHint = degradation === "maintain-resolution" ? "detail" : degradation === "maintain-framerate" ? "motion" : "";
    this.track = track;
    this.tick();
  }

  setMap(map: ImportanceMap | null): void {
    this.map = map;
  }

  get currentMap(): ImportanceMap | null {
    return this.map;
  }

  setFrameRate(fps: number): void {
    if (fps > 0 && Number.isFinite(fps)) this.fps = fps;
  }

  get frameRate(): number {
    return this.fps;
  }

  stats(): PipelineStats {
    return { framesOut: this.framesOut, framesFiltered: this.framesFiltered, filterMs: this.filterMsAvg };
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.track.stop();
  }

  private tick = (): void => {
    if (this.stopped) return;
    const now = performance.now();
    if (this.video.readyState >= 2) this.drawFrame();
    // Pace on a schedule, not "now + period", so the rate does not sag by the work time.
    const period = 1000 / this.fps;
    this.nextDueMs = Math.max(this.nextDueMs + period, now + 1);
    this.timer = setTimeout(this.tick, Math.max(0, this.nextDueMs - performance.now()));
  };

  private drawFrame(): void {
    const { ctx, width: w, height: h } = this;
    // The source can change during the call (another camera, a shared screen) while the sent size
    // stays: fit it in, keeping its shape, on black.
    const vw = this.video.videoWidth;
    const vh = this.video.videoHeight;
    if (vw > 0 && vh > 0 && Math.abs(vw / vh - w / h) > 0.01) {
      const k = Math.min(w / vw, h / vh);
      const dw = Math.round(vw * k);
      const dh = Math.round(vh * k);
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, w, h);
      ctx.drawImage(this.video, Math.floor((w - dw) / 2), Math.floor((h - dh) / 2), dw, dh);
    } else {
      ctx.drawImage(this.video, 0, 0, w, h);
    }
    const map = this.map;
    if (map) {
      const t0 = performance.now();
      const img = ctx.getImageData(0, 0, w, h);
      this.prefilter.applyRgba(img.data, w, h, map, img.data);
      ctx.putImageData(img, 0, 0);
      const ms = performance.now() - t0;
      this.filterMsAvg = this.filterMsAvg === null ? ms : this.filterMsAvg * 0.9 + ms * 0.1;
      this.framesFiltered++;
    }
    (this.track as CaptureTrack).requestFrame?.();
    this.framesOut++;
  }
}
