/**
 * Session Manager writes a MessageId's 16 canonical UUID bytes with their 8-byte halves swapped
 * (the reference client treats bytes 8-15 as the "least significant long" and writes it first).
 * See ssm-session-protocol.md §5.3 and test vector TV-1.
 */

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Canonical (RFC 4122 order) bytes of a hyphenated UUID string. */
export function uuidToBytes(uuid: string): Uint8Array {
  if (!UUID_TEXT.test(uuid)) throw new Error(`not a UUID: ${JSON.stringify(uuid)}`);
  return Uint8Array.from(Buffer.from(uuid.replaceAll("-", ""), "hex"));
}

/** Writes a UUID in Session Manager's wire order (halves swapped) into `out` at `offset`. */
export function writeWireUuid(uuid: string, out: Uint8Array, offset: number): void {
  const canonical = uuidToBytes(uuid);
  out.set(canonical.subarray(8, 16), offset);
  out.set(canonical.subarray(0, 8), offset + 8);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Reads a UUID written in Session Manager's wire order (on every received frame: no intermediate buffers). */
export function readWireUuid(wire: Uint8Array, offset: number): string {
  const h = (i: number) => HEX[wire[offset + i] as number] as string;
  // Canonical bytes 0-7 are wire bytes 8-15, canonical 8-15 are wire 0-7.
  return `${h(8)}${h(9)}${h(10)}${h(11)}-${h(12)}${h(13)}-${h(14)}${h(15)}-${h(0)}${h(1)}-${h(2)}${h(3)}${h(4)}${h(5)}${h(6)}${h(7)}`;
}
