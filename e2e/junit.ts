/**
 * JUnit XML for CI systems (GitHub, GitLab, Jenkins all read this dialect): one <testsuite> per target,
 * one <testcase> per step, so a red nightly shows which step broke without opening the log.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { StepResult } from "../cli/demo/runner.ts";

export interface JUnitSuite {
  /** e.g. "dbtunnel e2e (sandbox)" */
  readonly name: string;
  readonly results: readonly StepResult[];
  /** ISO timestamp of the start of the run. */
  readonly timestamp: string;
  /** Extra facts shown as <properties> (stack name, region, target). Never secrets. */
  readonly properties?: Readonly<Record<string, string>>;
  /** Full step log, attached as <system-out>. */
  readonly log?: string;
}

export function renderJUnit(suites: readonly JUnitSuite[]): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = suites.flatMap((s) => s.results);
  lines.push(
    `<testsuites name="dbtunnel-e2e" tests="${all.length}" failures="${count(all, "failed")}" skipped="${count(all, "skipped")}" time="${seconds(sum(all))}">`,
  );
  for (const suite of suites) {
    const r = suite.results;
    lines.push(
      `  <testsuite name="${xml(suite.name)}" tests="${r.length}" failures="${count(r, "failed")}" errors="0" skipped="${count(r, "skipped")}" time="${seconds(sum(r))}" timestamp="${xml(suite.timestamp)}">`,
    );
    const props = Object.entries(suite.properties ?? {});
    if (props.length > 0) {
      lines.push("    <properties>");
      for (const [name, value] of props)
        lines.push(`      <property name="${xml(name)}" value="${xml(value)}"/>`);
      lines.push("    </properties>");
    }
    for (const result of r) {
      const open = `    <testcase classname="${xml(suite.name)}" name="${xml(`${result.name}: ${result.title}`)}" time="${seconds(result.ms)}"`;
      if (result.status === "passed") {
        lines.push(
          result.detail ? `${open}><system-out>${xml(result.detail)}</system-out></testcase>` : `${open}/>`,
        );
      } else if (result.status === "skipped") {
        lines.push(`${open}><skipped message="${xml(result.detail ?? "not run")}"/></testcase>`);
      } else {
        const message = result.error ?? "failed";
        lines.push(
          `${open}><failure message="${xml(message)}" type="StepFailed">${xml(message)}</failure></testcase>`,
        );
      }
    }
    if (suite.log) lines.push(`    <system-out>${xml(suite.log)}</system-out>`);
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>", "");
  return lines.join("\n");
}

export function writeJUnit(path: string, suites: readonly JUnitSuite[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderJUnit(suites));
}

/** Escapes XML text and attribute values; drops characters XML 1.0 cannot carry at all (ANSI escapes). */
export function xml(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
      .replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these code points
      .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
  );
}

function count(results: readonly StepResult[], status: StepResult["status"]): number {
  return results.filter((r) => r.status === status).length;
}

function sum(results: readonly StepResult[]): number {
  return results.reduce((total, r) => total + r.ms, 0);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
