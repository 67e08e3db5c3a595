/**
 * Drop-tail accounting for the bottleneck queue: which admitted packets are still waiting for their
 * transmission to start. A packet whose first byte has gone is no longer counted, as in mahimahi's
 * DroppingPacketQueue (src/frontend/dropping_packet_queue.cc `good_with`, which counts the queue but
 * not the packet in transit). A packet fits if the queue stays within the limit with it added.
 */
import type { QueueLimit } from "./config.ts";

export class DropTailQueue {
  private readonly startsMs: number[] = [];
  private readonly sizes: number[] = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly limit: QueueLimit) {}

  /** Packets waiting at `nowMs` (call `expire` first). */
  get packets(): number {
    return this.startsMs.length - this.head;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  /** Forgets packets whose transmission has started by `nowMs`. */
  expire(nowMs: number): void {
    while (this.head < this.startsMs.length && this.startsMs[this.head]! <= nowMs) {
      this.bytes -= this.sizes[this.head]!;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.startsMs.length) {
      this.startsMs.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
  }

  fits(sizeBytes: number): boolean {
    switch (this.limit.kind) {
      case "unlimited":
        return true;
      case "packets":
        return this.packets + 1 <= this.limit.packets;
      case "bytes":
        return this.bytes + sizeBytes <= this.limit.bytes;
    }
  }

  /** Records an admitted packet that will wait until `startMs`. */
  push(startMs: number, sizeBytes: number): void {
    this.startsMs.push(startMs);
    this.sizes.push(sizeBytes);
    this.bytes += sizeBytes;
  }
}
