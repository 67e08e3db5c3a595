/**
 * An in-process packet pipe: the `LinkEmulator` core plus a timer that calls `deliver` when each
 * packet's delivery time comes. Tests and benchmarks put it between an RTP sender and a receive
 * path; with a `VirtualTimer` the same run happens in virtual time.
 */
import { type DeliveredPacket, LinkEmulator, type LinkCounters, type SendResult } from "./emulator.ts";
import type { LinkConfig } from "./config.ts";
import { LinkError } from "./errors.ts";
import { type LinkTimer, realTimer, type TimerHandle } from "./timer.ts";

export interface LinkPipeOptions<T> {
  readonly config: LinkConfig;
  readonly seed: number;
  /** Prefix for field names in config errors, e.g. "uplink". */
  readonly field?: string;
  /** Called once per delivered packet, in order, at (or just after) its delivery time. */
  readonly deliver: (payload: T, packet: DeliveredPacket<T>) => void;
  /** Default `realTimer`. The trace starts at the timer's `now()` when the pipe is made. */
  readonly timer?: LinkTimer;
  /**
   * Called when `deliver` throws. The pipe goes on delivering later packets either way, so one
   * failing receiver cannot stall the link (mediasoup's `safeEmit`). Default: the error is counted
   * in `deliverErrors` only.
   */
  readonly onDeliverError?: (err: unknown, packet: DeliveredPacket<T>) => void;
}

export class LinkPipe<T> {
  readonly emulator: LinkEmulator<T>;
  private readonly timer: LinkTimer;
  private pending: { handle: TimerHandle; atMs: number } | undefined;
  private closed = false;
  private errors = 0;

  constructor(private readonly options: LinkPipeOptions<T>) {
    this.timer = options.timer ?? realTimer;
    this.emulator = new LinkEmulator<T>(options.config, { seed: options.seed, startMs: this.timer.now(), field: options.field });
  }

  /**
   * Puts a packet on the link now. `sizeBytes` defaults to the payload's length when it is a
   * Uint8Array; otherwise give it (e.g. `rtpPacketSize(packet)`). After `close()`, every packet is
   * refused with an `INVALID_ARGUMENT` error.
   */
  send(payload: T, sizeBytes?: number): SendResult {
    if (this.closed) throw new LinkError("INVALID_ARGUMENT", "pipe", "send() on a closed LinkPipe");
    const size = sizeBytes ?? (payload instanceof Uint8Array ? payload.byteLength : undefined);
    if (size === undefined) {
      throw new LinkError("INVALID_ARGUMENT", "sizeBytes", "sizeBytes is required when the payload is not a Uint8Array");
    }
    const result = this.emulator.send(size, this.timer.now(), payload);
    if (result.accepted) this.schedule();
    return result;
  }

  counters(): LinkCounters {
    return this.emulator.counters();
  }

  /** How many times `deliver` threw. */
  get deliverErrors(): number {
    return this.errors;
  }

  /** Stops the timer. Packets still in flight are never delivered (they stay in `packetsInFlight`). */
  close(): void {
    this.closed = true;
    this.pending?.handle.cancel();
    this.pending = undefined;
  }

  private schedule(): void {
    if (this.closed) return;
    const next = this.emulator.nextEventMs();
    if (next === undefined) return;
    if (this.pending && this.pending.atMs <= next) return;
    this.pending?.handle.cancel();
    const handle = this.timer.setTimer(next - this.timer.now(), () => this.fire());
    this.pending = { handle, atMs: next };
  }

  private fire(): void {
    this.pending = undefined;
    if (this.closed) return;
    for (const packet of this.emulator.poll(this.timer.now())) {
      try {
        this.options.deliver(packet.payload as T, packet);
      } catch (err) {
        this.errors++;
        try {
          this.options.onDeliverError?.(err, packet);
        } catch {
          // An error handler that throws must not stop the link either.
        }
      }
      if (this.closed) return;
    }
    this.schedule();
  }
}
