/** Region-of-interest pre-filter for raw frames; see prefilter.ts. Browser-safe (no Node imports). */
export {
  DEFAULT_THRESHOLD,
  RoiPrefilter,
  createI420,
  defaultMaxRadius,
  i420FromBuffer,
  i420Size,
  i420ToBuffer,
  prefilterStrength,
  type I420Frame,
  type PrefilterMode,
  type RoiPrefilterOptions,
  type StrengthOptions,
} from "./prefilter.ts";
