/**
 * The agent's smux-socket read loop (amazon-ssm-agent agent/session/plugins/port/port_mux.go,
 * transferDataToMgs): 1024-byte reads whatever the smux frame boundaries, a 1 ms sleep after each, no
 * reads while publication is paused, and writers stopped while the socket's buffer is full.
 */
import { expect, test } from "bun:test";
import { ManualClock } from "../../test-support/manual-clock.ts";
import { MuxPipe, PIPE_BUFFER } from "./mux-pipe.ts";

function pipe(active: { value: boolean } = { value: true }) {
  const clock = new ManualClock();
  const reads: Uint8Array[] = [];
  const events: string[] = [];
  const p = new MuxPipe({
    clock,
    emit: (bytes) => reads.push(bytes.slice()),
    isActive: () => active.value,
    onFull: () => events.push("full"),
    onRoom: () => events.push("room"),
  });
  return { p, clock, reads, events };
}

test("reads cross write boundaries: 1024 bytes per read, one read per 1 ms, bytes in order", () => {
  const { p, clock, reads } = pipe();
  const written = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
  p.write(written.subarray(0, 8)); // an smux header alone: the blocked read returns it at once
  p.write(written.subarray(8, 1500));
  p.write(written.subarray(1500));
  expect(reads.map((r) => r.length)).toEqual([8]);
  clock.advance(1);
  clock.advance(1);
  clock.advance(1);
  expect(reads.map((r) => r.length)).toEqual([8, 1024, 1024, 944]);
  expect(Buffer.concat(reads).equals(Buffer.from(written))).toBe(true);
  clock.advance(10);
  expect(reads.length).toBe(4); // nothing left: the loop waits for the next write
});

test("no reads while publication is paused; they resume with the data kept", () => {
  const active = { value: false };
  const { p, clock, reads } = pipe(active);
  p.write(new Uint8Array(2048));
  clock.advance(5);
  expect(reads.length).toBe(0);
  active.value = true;
  clock.advance(1);
  clock.advance(1);
  expect(reads.map((r) => r.length)).toEqual([1024, 1024]);
});

test("writers are stopped above the socket buffer and resumed below half of it", () => {
  const { p, clock, events } = pipe();
  for (let i = 0; i < PIPE_BUFFER / 32768 + 1; i++) p.write(new Uint8Array(32768));
  expect(events).toEqual(["full"]);
  let ms = 0;
  while (events.length === 1 && ms < 1000) {
    clock.advance(1);
    ms++;
  }
  expect(events).toEqual(["full", "room"]);
  expect(p.backlog).toBeLessThanOrEqual(PIPE_BUFFER / 2);
  expect(p.backlog).toBeGreaterThan(PIPE_BUFFER / 2 - 1024);
});
