/**
 * The port every multimodal model sits behind: the embedded offline engine, and any
 * OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp server, LM Studio, hosted
 * APIs). The call server's agent and DeViBench both talk to models only through this interface.
 */

/** One decoded video frame as packed 8-bit RGB (3 bytes per pixel, row-major, no padding). */
export interface VideoFrame {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
  /** Media time of the frame (capture time in a call, position in the clip in DeViBench). */
  readonly timestampMs: number;
}

export interface AskRequest {
  /** The full text prompt (DeViBench's prompt template already applied by the caller). */
  readonly prompt: string;
  /** The question alone, for engines that parse it (the embedded engine). */
  readonly question?: string;
  readonly frames: readonly VideoFrame[];
  readonly maxTokens?: number;
  readonly signal?: AbortSignal;
  /**
   * Who the call is for (the call server passes the room): a client that orders its own work
   * shares it fairly between accounts (the embedded engine runs the model steps of the account
   * that had the least model time lately first). Clients that take calls one at a time ignore it.
   */
  readonly account?: string;
}

export interface AskResult {
  readonly text: string;
  /** True when the engine said it cannot answer, instead of guessing. */
  readonly cannotAnswer: boolean;
  readonly model: string;
  /** Wall-clock milliseconds the call took. */
  readonly latencyMs: number;
  /**
   * Where in the picture the answer was read, and how sure the model is of it (0..1), when the
   * model can say (the embedded engine always does; OpenAI-compatible models do not).
   */
  readonly grounding?: { readonly box: NormalizedBox; readonly confidence: number };
  /**
   * How readable the picture was for this answer (0..1; >= 0.8 reads reliably), when the model can
   * say: the embedded engine's character probabilities (answer.ts `readability`). The model-need
   * rate cap steers the sender to the lowest rate that keeps it at 0.8 (sfu/agent/model-need.ts).
   */
  readonly readability?: number;
}

/** A box in normalised picture coordinates (0..1, origin top-left). */
export interface NormalizedBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly label?: string;
  readonly score?: number;
}

export interface GroundRequest {
  readonly question: string;
  readonly frame: VideoFrame;
  readonly signal?: AbortSignal;
}

export interface MllmClient {
  /** Short name for logs and reports, e.g. "embedded-ocr" or "openai:gpt-4o-mini". */
  readonly name: string;
  ask(req: AskRequest): Promise<AskResult>;
  /** The answer as it is produced, chunk by chunk (for a call's streaming reply). */
  askStream?(req: AskRequest): AsyncIterable<string>;
  /** Boxes of the picture regions relevant to the question; absent when the model cannot ground. */
  ground?(req: GroundRequest): Promise<NormalizedBox[]>;
  close?(): Promise<void>;
}

export type MllmErrorCode =
  | "TIMEOUT"
  | "UNREACHABLE"
  | "HTTP_ERROR"
  | "BAD_RESPONSE"
  | "CANCELLED"
  | "MODEL_LOAD_FAILED"
  | "INVALID_INPUT";

export class MllmError extends Error {
  override readonly name = "MllmError";
  readonly code: MllmErrorCode;
  /** True when the same call may succeed if tried again (timeouts, 429, 5xx, refused connections). */
  readonly retryable: boolean;

  constructor(code: MllmErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** DeViBench's answering prompt (Artic/DeViBench v2). */
export function devibenchPrompt(question: string): string {
  return `Answer the following question concisely based on the video.\nQuestion:\n${question}`;
}
