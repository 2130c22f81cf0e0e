import { describe, expect, test } from "bun:test";
import { chooseOne } from "./choose.ts";

describe("chooseOne", () => {
  test("one candidate is taken; several without a terminal fail listing them and the flag", async () => {
    expect(
      await chooseOne({
        items: ["dev"],
        label: (s) => s,
        what: "stacks",
        flag: "--stack <name>",
        interactive: false,
      }),
    ).toBe("dev");
    await expect(
      chooseOne({
        items: ["dev", "prod"],
        label: (s) => s,
        what: "stacks",
        flag: "--stack <name>",
        interactive: false,
      }),
    ).rejects.toThrow("Found 2 stacks (dev, prod): pick one with --stack <name>.");
  });
});
