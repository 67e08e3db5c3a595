import { describe, expect, it } from "vitest";
import { NackRequester } from "./nack-requester.ts";

describe("NackRequester", () => {
  it("re-NACKs a missing packet every interval until it arrives", () => {
    const n = new NackRequester({ retryIntervalMs: 100 });
    n.nacked([5, 6], 0);
    expect(n.nextDueMs()).toBe(100);
    expect(n.due(99)).toEqual([]);
    expect(n.due(100)).toEqual([5, 6]);
    n.received(5);
    expect(n.due(200)).toEqual([6]);
    expect(n.retriesSent).toBe(3);
  });

  it("gives up after maxRetries", () => {
    const n = new NackRequester({ retryIntervalMs: 10, maxRetries: 2 });
    n.nacked([1], 0);
    expect(n.due(10)).toEqual([1]);
    expect(n.due(20)).toEqual([1]);
    expect(n.due(30)).toEqual([]);
    expect(n.pending).toBe(0);
    expect(n.nextDueMs()).toBeUndefined();
  });

  it("forgets packets of a given-up frame and everything before a keyframe, across the 16-bit wrap", () => {
    const n = new NackRequester({ retryIntervalMs: 10 });
    n.nacked([65534, 65535, 0, 3], 0);
    n.forget([3]);
    n.clearBefore(1);
    expect(n.pending).toBe(0);
  });

  it("refuses a retry interval that is not > 0", () => {
    expect(() => new NackRequester({ retryIntervalMs: 0 })).toThrow(/retryIntervalMs/);
  });
});
