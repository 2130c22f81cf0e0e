import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIGURES_FILE_VARIABLE, figureRow, parseFigures, renderFigures, reportFigures } from "./figures.ts";

describe("benchmark figures", () => {
  test("reportFigures appends to the file bench/run.ts names, and is a no-op without it", () => {
    const dir = mkdtempSync(join(tmpdir(), "dbtunnel-figures-"));
    const saved = process.env[FIGURES_FILE_VARIABLE];
    try {
      delete process.env[FIGURES_FILE_VARIABLE];
      reportFigures("x", [{ name: "ignored", value: 1, unit: "ms" }]);
      const file = join(dir, "figures.jsonl");
      process.env[FIGURES_FILE_VARIABLE] = file;
      reportFigures("tunnel", [{ name: "upload", value: 40, unit: "MB/s" }]);
      reportFigures("synth", [{ name: "synth", value: 200, unit: "ms" }]);
      expect(parseFigures(readFileSync(file, "utf8")).map((f) => `${f.bench}/${f.name}`)).toEqual([
        "tunnel/upload",
        "synth/synth",
      ]);
    } finally {
      if (saved === undefined) delete process.env[FIGURES_FILE_VARIABLE];
      else process.env[FIGURES_FILE_VARIABLE] = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a figure without a numeric value is a broken benchmark", () => {
    expect(() => parseFigures('{"bench":"b","name":"n","value":"fast","unit":"ms"}\n')).toThrow(
      "benchmark figure b/n has no numeric value and unit",
    );
  });

  test("ratio is value over the same-run baseline; meets follows the target's direction", () => {
    const upload = {
      bench: "tunnel",
      name: "upload",
      value: 40,
      unit: "MB/s",
      baseline: { name: "direct", value: 80 },
      target: { value: 25, better: "higher" as const },
    };
    expect(figureRow(upload)).toEqual({ ratio: 0.5, targetRatio: 1.6, meets: true });
    expect(figureRow({ ...upload, value: 20 }).meets).toBe(false);
    const startup = { bench: "executable", name: "--version", value: 120, unit: "ms" };
    expect(figureRow({ ...startup, target: { value: 100, better: "lower" } }).meets).toBe(false);
    expect(figureRow(startup)).toEqual({ ratio: undefined, targetRatio: undefined, meets: undefined });
  });

  test("renders one aligned table with every figure", () => {
    const table = renderFigures([
      {
        bench: "tunnel",
        name: "upload",
        value: 41.23,
        unit: "MB/s",
        baseline: { name: "direct", value: 82.46 },
      },
      { bench: "executable", name: "size", value: 98.7, unit: "MB" },
    ]).split("\n");
    expect(table[0]).toStartWith("bench       figure  value");
    expect(table[2]).toBe("tunnel      upload  41.2 MB/s  82.5 (direct)        0.50x");
    expect(table[3]).toBe("executable  size    98.7 MB");
  });
});
