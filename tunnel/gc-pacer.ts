/**
 * Collects garbage paced by tunnel traffic: a young (eden) collection every `edenEveryBytes`, a full one
 * every `fullEveryBytes`.
 *
 * Why: at tens of MB/s the data path turns over buffers the runtime allocates for us (every socket read
 * is a new Buffer, so is each WebSocket chunk and each ack) faster than Bun's collector notices: it
 * schedules by object counts, not by the malloc'd bytes behind them, so garbage piled up to 200-400 MB of
 * RSS before a collection while what is live stays a few MB. An eden collection only visits what was
 * allocated since the last one (well under a millisecond); buffers still in flight at that moment are
 * promoted and only a full collection frees them, so one runs every few eden ones. A full collection every
 * 25 ms halved throughput when tried; per bytes moved it costs a few percent.
 */
import { edenGC, fullGC } from "bun:jsc";

export interface GcPacerOptions {
  /** Bytes of traffic between two eden collections. @default EDEN_EVERY_BYTES */
  readonly edenEveryBytes?: number;
  /** Bytes of traffic between two full collections. @default FULL_EVERY_BYTES */
  readonly fullEveryBytes?: number;
  /** @default bun:jsc edenGC (synchronous) */
  readonly eden?: () => unknown;
  /** @default bun:jsc fullGC (synchronous) */
  readonly full?: () => unknown;
}

export const EDEN_EVERY_BYTES = 2 * 1024 * 1024;
export const FULL_EVERY_BYTES = 16 * 1024 * 1024;

export class GcPacer {
  private sinceEden = 0;
  private sinceFull = 0;
  private readonly edenEveryBytes: number;
  private readonly fullEveryBytes: number;
  private readonly eden: () => unknown;
  private readonly full: () => unknown;
  /** Collections run so far. */
  readonly stats = { eden: 0, full: 0 };

  constructor(options: GcPacerOptions = {}) {
    this.edenEveryBytes = options.edenEveryBytes ?? EDEN_EVERY_BYTES;
    this.fullEveryBytes = options.fullEveryBytes ?? FULL_EVERY_BYTES;
    this.eden = options.eden ?? edenGC;
    this.full = options.full ?? fullGC;
  }

  /** Counts `n` bytes of traffic and runs the collection that is due, if any. */
  count(n: number): void {
    this.sinceEden += n;
    if (this.sinceEden < this.edenEveryBytes) return;
    this.sinceEden = 0;
    this.sinceFull += this.edenEveryBytes;
    if (this.sinceFull >= this.fullEveryBytes) {
      this.sinceFull = 0;
      this.stats.full++;
      this.full();
    } else {
      this.stats.eden++;
      this.eden();
    }
  }
}

/**
 * The process's one pacer. A collection is process-wide, so every data channel counts its traffic into
 * the same budget: with `--sessions N` (or several targets in `dbtunnel up`) a pacer per channel would
 * collect N times as often for the same bytes moved.
 */
export const processGcPacer = new GcPacer();
