#!/usr/bin/env bun
/** Writes docs/configuration.md from stacks/config-reference.ts (the test checks they agree). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderConfigReference } from "../stacks/config-reference.ts";

const file = join(import.meta.dir, "..", "docs", "configuration.md");
writeFileSync(file, renderConfigReference());
console.log(`wrote ${file}`);
