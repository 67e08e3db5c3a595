/**
 * Who is in which room. Pure and in memory: no sockets, no clock. The signalling server owns one
 * registry; rooms appear with their first participant and vanish with their last.
 *
 * The AI peer is not a participant here: its identity is reserved so no person can take it.
 */
export interface Participant {
  readonly peerId: string;
  readonly identity: string;
}

export type RoomJoinErrorCode = "ROOM_FULL" | "IDENTITY_IN_USE" | "PEER_ALREADY_JOINED";

export type RoomJoinResult =
  | { readonly ok: true; readonly participants: readonly Participant[] }
  | { readonly ok: false; readonly code: RoomJoinErrorCode; readonly message: string };

export interface RoomRegistryOptions {
  /** Participants per room, the AI peer not counted. Default 8. */
  readonly maxParticipantsPerRoom?: number;
  /** Identities nobody may join with (the AI peer's). Default none. */
  readonly reservedIdentities?: readonly string[];
}

export const DEFAULT_MAX_PARTICIPANTS_PER_ROOM = 8;

export class RoomRegistry {
  readonly maxParticipantsPerRoom: number;
  private readonly reserved: ReadonlySet<string>;
  /** room -> peerId -> participant (insertion order = join order). */
  private readonly rooms = new Map<string, Map<string, Participant>>();
  /** peerId -> room, so a peer is in at most one room. */
  private readonly roomOfPeer = new Map<string, string>();

  constructor(options: RoomRegistryOptions = {}) {
    const max = options.maxParticipantsPerRoom ?? DEFAULT_MAX_PARTICIPANTS_PER_ROOM;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxParticipantsPerRoom must be an integer >= 1, got ${max}`);
    this.maxParticipantsPerRoom = max;
    this.reserved = new Set(options.reservedIdentities ?? []);
  }

  join(room: string, participant: Participant): RoomJoinResult {
    const current = this.roomOfPeer.get(participant.peerId);
    if (current !== undefined) {
      return { ok: false, code: "PEER_ALREADY_JOINED", message: `peer ${participant.peerId} is already in room "${current}"` };
    }
    const members = this.rooms.get(room);
    const taken =
      this.reserved.has(participant.identity) || [...(members?.values() ?? [])].some((p) => p.identity === participant.identity);
    if (taken) {
      return { ok: false, code: "IDENTITY_IN_USE", message: `identity "${participant.identity}" is already in room "${room}"; pick another` };
    }
    if (members !== undefined && members.size >= this.maxParticipantsPerRoom) {
      return { ok: false, code: "ROOM_FULL", message: `room "${room}" is full (${this.maxParticipantsPerRoom} participants)` };
    }
    const m = members ?? new Map<string, Participant>();
    m.set(participant.peerId, { peerId: participant.peerId, identity: participant.identity });
    this.rooms.set(room, m);
    this.roomOfPeer.set(participant.peerId, room);
    return { ok: true, participants: [...m.values()] };
  }

  /** Removes the peer from its room; returns the participant, or undefined when it was in none. */
  leave(peerId: string): Participant | undefined {
    const room = this.roomOfPeer.get(peerId);
    if (room === undefined) return undefined;
    this.roomOfPeer.delete(peerId);
    const members = this.rooms.get(room)!;
    const p = members.get(peerId);
    members.delete(peerId);
    if (members.size === 0) this.rooms.delete(room);
    return p;
  }

  participants(room: string): readonly Participant[] {
    return [...(this.rooms.get(room)?.values() ?? [])];
  }

  roomOf(peerId: string): string | undefined {
    return this.roomOfPeer.get(peerId);
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  get participantCount(): number {
    return this.roomOfPeer.size;
  }
}
