import { describe, expect, it } from "vitest";
import { RoomRegistry } from "./rooms.ts";

describe("RoomRegistry", () => {
  it("join, new identities, lists participants in join order", () => {
    const r = new RoomRegistry();
    expect(r.join("a", { peerId: "p1", identity: "alice" }).ok).toBe(true);
    const second = r.join("a", { peerId: "p2", identity: "bob" });
    expect(second).toEqual({ ok: true, participants: [{ peerId: "p1", identity: "alice" }, { peerId: "p2", identity: "bob" }] });
    expect([r.roomCount, r.participantCount]).toEqual([1, 2]);
  });

  it("join, identity already in the room, IDENTITY_IN_USE and nothing changes", () => {
    const r = new RoomRegistry();
    r.join("a", { peerId: "p1", identity: "alice" });
    expect(r.join("a", { peerId: "p2", identity: "alice" })).toMatchObject({ ok: false, code: "IDENTITY_IN_USE" });
    expect(r.participants("a")).toHaveLength(1);
  });

  it("join, same identity in another room, allowed", () => {
    const r = new RoomRegistry();
    r.join("a", { peerId: "p1", identity: "alice" });
    expect(r.join("b", { peerId: "p2", identity: "alice" }).ok).toBe(true);
  });

  it("join, reserved identity (the AI peer), IDENTITY_IN_USE", () => {
    const r = new RoomRegistry({ reservedIdentities: ["assistant"] });
    expect(r.join("a", { peerId: "p1", identity: "assistant" })).toMatchObject({ ok: false, code: "IDENTITY_IN_USE" });
  });

  it("join, room at its limit, ROOM_FULL until someone leaves", () => {
    const r = new RoomRegistry({ maxParticipantsPerRoom: 2 });
    r.join("a", { peerId: "p1", identity: "u1" });
    r.join("a", { peerId: "p2", identity: "u2" });
    expect(r.join("a", { peerId: "p3", identity: "u3" })).toMatchObject({ ok: false, code: "ROOM_FULL" });
    r.leave("p1");
    expect(r.join("a", { peerId: "p3", identity: "u3" }).ok).toBe(true);
  });

  it("join, default limit, admits 8 and refuses the 9th", () => {
    const r = new RoomRegistry();
    for (let i = 0; i < 8; i++) expect(r.join("a", { peerId: `p${i}`, identity: `u${i}` }).ok).toBe(true);
    expect(r.join("a", { peerId: "p8", identity: "u8" })).toMatchObject({ ok: false, code: "ROOM_FULL" });
  });

  it("join, peer already in a room, PEER_ALREADY_JOINED", () => {
    const r = new RoomRegistry();
    r.join("a", { peerId: "p1", identity: "alice" });
    expect(r.join("b", { peerId: "p1", identity: "alice" })).toMatchObject({ ok: false, code: "PEER_ALREADY_JOINED" });
  });

  it("leave, last participant, removes the room and frees the identity", () => {
    const r = new RoomRegistry();
    r.join("a", { peerId: "p1", identity: "alice" });
    expect(r.leave("p1")).toEqual({ peerId: "p1", identity: "alice" });
    expect([r.roomCount, r.participantCount, r.roomOf("p1")]).toEqual([0, 0, undefined]);
    expect(r.join("a", { peerId: "p2", identity: "alice" }).ok).toBe(true);
  });

  it("leave, unknown peer, returns undefined", () => {
    expect(new RoomRegistry().leave("ghost")).toBeUndefined();
  });

  it.each([0, -1, 1.5])("constructor, maxParticipantsPerRoom %s, throws RangeError", (n) => {
    expect(() => new RoomRegistry({ maxParticipantsPerRoom: n })).toThrow(RangeError);
  });
});
