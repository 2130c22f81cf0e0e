import type { SessionStats } from "../gateway/types.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

/** The live, writable form of SessionStats that the emulator's parts increment. */
export type MutableStats = Mutable<SessionStats>;

export function createStats(
  sessionId: string,
  target: string,
  agentVersion: string,
  seed: number,
): MutableStats {
  return {
    sessionId,
    target,
    mode: "pending",
    keepalive: false,
    agentVersion,
    clientVersion: "",
    seed,
    handshakeComplete: false,
    webSocketConnections: 0,
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    acksSent: 0,
    acksReceived: 0,
    retransmissions: 0,
    rtoMs: 200,
    rtoMaxMs: 200,
    duplicatesReacked: 0,
    digestFailures: 0,
    malformedFrames: 0,
    notReadyDrops: 0,
    streamsOpened: 0,
    dialFailures: 0,
    paced: true,
    outgoingNotStored: 0,
    readerBlocks: 0,
    faults: {
      dropped: 0,
      duplicated: 0,
      reordered: 0,
      acksDropped: 0,
      digestsCorrupted: 0,
      webSocketsClosed: 0,
      dialsRefused: 0,
    },
    terminateFlagReceived: false,
    terminated: false,
  };
}

/** A deep copy, so a caller holding a snapshot does not see it change. */
export function snapshotStats(stats: MutableStats): SessionStats {
  return { ...stats, faults: { ...stats.faults } };
}
