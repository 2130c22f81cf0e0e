/**
 * Masked client frames (RFC 6455 §5.2, §5.3), the bytes the data channel's WebSocket client sends: each
 * frame gets a fresh random masking key and its payload is masked while it is copied into the caller's
 * buffer, a word at a time.
 */

/** Random masking keys drawn in bulk (RFC 6455 §5.3: unpredictable, one per frame). */
const keyPool = new Uint8Array(4096);
let keyOffset = keyPool.length;

function nextMaskKey(out: Uint8Array, offset: number): void {
  if (keyOffset + 4 > keyPool.length) {
    crypto.getRandomValues(keyPool);
    keyOffset = 0;
  }
  out[offset] = keyPool[keyOffset] as number;
  out[offset + 1] = keyPool[keyOffset + 1] as number;
  out[offset + 2] = keyPool[keyOffset + 2] as number;
  out[offset + 3] = keyPool[keyOffset + 3] as number;
  keyOffset += 4;
}

/** Bytes of a masked client frame's header (2, 4 or 10) plus its 4-byte masking key. */
export function frameHeaderBytes(length: number): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + 4;
}

/** Scratch for the masking key rotated to a word boundary. */
const rotated = new Uint8Array(4);
const rotatedWord = new Uint32Array(rotated.buffer);

/**
 * Writes one masked client frame into `out` at `at` (RFC 6455 §5.2) and returns where it ends. The payload
 * is copied in and masked in place, whole 32-bit words where `out` is word-aligned (the key repeats every
 * 4 bytes, so an aligned word takes the key rotated by its distance from the payload start).
 */
export function writeClientFrame(
  out: Uint8Array,
  words: Uint32Array,
  at: number,
  opcode: number,
  payload: Uint8Array,
): number {
  const length = payload.length;
  const start = at + frameHeaderBytes(length);
  out[at] = 0x80 | opcode;
  if (length < 126) {
    out[at + 1] = 0x80 | length;
  } else if (length < 65536) {
    out[at + 1] = 0x80 | 126;
    out[at + 2] = length >>> 8;
    out[at + 3] = length & 0xff;
  } else {
    out[at + 1] = 0x80 | 127;
    const high = Math.floor(length / 2 ** 32);
    const low = length >>> 0;
    for (let i = 0; i < 4; i++) {
      out[at + 2 + i] = (high >>> (24 - 8 * i)) & 0xff;
      out[at + 6 + i] = (low >>> (24 - 8 * i)) & 0xff;
    }
  }
  const key = start - 4;
  nextMaskKey(out, key);
  out.set(payload, start);
  const end = start + length;
  // Bytes before the first word boundary, then whole words, then the tail.
  let i = start;
  const firstWord = Math.min(end, (start + 3) & ~3);
  for (; i < firstWord; i++) out[i] = (out[i] as number) ^ (out[key + ((i - start) & 3)] as number);
  if (i + 4 <= end) {
    for (let k = 0; k < 4; k++) rotated[k] = out[key + ((i - start + k) & 3)] as number;
    const mask = rotatedWord[0] as number;
    const lastWord = end >>> 2;
    for (let w = i >>> 2; w < lastWord; w++) words[w] = (words[w] as number) ^ mask;
    i = lastWord << 2;
  }
  for (; i < end; i++) out[i] = (out[i] as number) ^ (out[key + ((i - start) & 3)] as number);
  return end;
}

/** One masked client frame on its own (control frames, tests). */
export function encodeClientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const size = frameHeaderBytes(payload.length) + payload.length;
  const buffer = new ArrayBuffer((size + 3) & ~3);
  writeClientFrame(new Uint8Array(buffer), new Uint32Array(buffer), 0, opcode, payload);
  return new Uint8Array(buffer, 0, size);
}
