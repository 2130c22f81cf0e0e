/**
 * When a lookup finds several candidates (stacks, databases, users): ask on an interactive terminal,
 * otherwise fail with one line listing them and the flag that picks one. Never guess.
 */
import { createInterface } from "node:readline/promises";
import { CliError } from "./errors.ts";

export interface ChooseOptions<T> {
  readonly items: readonly T[];
  readonly label: (item: T) => string;
  /** Plural noun for messages, e.g. "stacks". */
  readonly what: string;
  /** How to pick without asking, e.g. "--stack <name>". */
  readonly flag: string;
  /** @default stdin and stderr are TTYs */
  readonly interactive?: boolean;
}

export async function chooseOne<T>(options: ChooseOptions<T>): Promise<T> {
  const { items, label, what, flag } = options;
  const [first] = items;
  if (first === undefined) throw new CliError(`No ${what} to choose from.`);
  if (items.length === 1) return first;
  const names = items.map(label);
  const interactive = options.interactive ?? Boolean(process.stdin.isTTY && process.stderr.isTTY);
  if (!interactive) {
    throw new CliError(`Found ${items.length} ${what} (${names.join(", ")}): pick one with ${flag}.`, {
      code: "Ambiguous",
    });
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    process.stderr.write(`Found ${items.length} ${what}:\n`);
    names.forEach((name, i) => {
      process.stderr.write(`  ${i + 1}) ${name}\n`);
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      const answer = (await rl.question(`Which one? [1-${items.length}] `)).trim();
      const index = Number(answer) - 1;
      const byIndex = Number.isInteger(index) ? items[index] : undefined;
      if (byIndex !== undefined) return byIndex;
      const byName = items.find((item) => label(item) === answer);
      if (byName !== undefined) return byName;
    }
  } finally {
    rl.close();
  }
  throw new CliError(`No valid choice among ${what}: pass ${flag}.`, { code: "Ambiguous" });
}
