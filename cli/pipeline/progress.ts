/**
 * How the pipeline reports: a named step with live progress, machine-readable events and debug lines.
 * The CLI's Reporter is one; the demo adapts its flow steps to it; a proxy or a bench can pass a quiet one.
 */
import type { JsonEvent, Step } from "../ui.ts";

export type { JsonEvent, Step };

export interface PipelineReporter {
  step(name: string, label: string): Step;
  event(event: JsonEvent): void;
  debug(text: string): void;
}

/** Reports nothing: for callers that only want the result (benches, tests). */
export const QUIET: PipelineReporter = {
  step: () => ({ progress: () => {}, done: () => {}, fail: () => {} }),
  event: () => {},
  debug: () => {},
};
