import { describe, expect, test } from "bun:test";
import { parseProfile } from "./profile.ts";

const good = {
  targets: [
    { name: "orders", outputs: "out/outputs.json", user: "app_user", database: "orders", localPort: 15432 },
    {
      name: "reports",
      stack: "reports",
      region: "eu-west-1",
      db: "reports-db",
      user: "analyst",
      localPort: 15433,
    },
  ],
  localTls: true,
};

describe("dbtunnel up profile", () => {
  test("a valid profile: paths relative to the profile's directory, defaults filled in", () => {
    const profile = parseProfile(good, "/home/eng/work/dbtunnel-up.json");
    expect(profile.localTls).toBe(true);
    expect(profile.targets[0]).toEqual({
      name: "orders",
      outputs: "/home/eng/work/out/outputs.json",
      user: "app_user",
      database: "orders",
      localPort: 15432,
    });
    expect(profile.targets[1]?.region).toBe("eu-west-1");
  });

  test("each mistake is one line naming the file, the field and the fix", () => {
    const cases: Array<[unknown, string]> = [
      [[], "must be a JSON object with a 'targets' array"],
      [{ targets: [] }, "'targets' must be a non-empty array"],
      [
        { targets: [{ ...good.targets[0], localPort: "15432" }] },
        'targets[0].localPort must be an integer from 1024 to 65535 (got "15432")',
      ],
      [{ targets: [{ ...good.targets[0], user: undefined }] }, "targets[0].user is missing"],
      [{ targets: [{ ...good.targets[0], colour: "red" }] }, "unknown field 'targets[0].colour'"],
      [
        { targets: [good.targets[0], { ...good.targets[1], localPort: 15432 }] },
        "targets[1].localPort 15432 is used twice",
      ],
      [
        { targets: [good.targets[0], { ...good.targets[1], name: "orders" }] },
        "targets[1].name 'orders' is used twice",
      ],
      [{ targets: [{ name: "x", user: "u", localPort: 15432 }] }, "targets[0] needs 'outputs'"],
      [{ targets: [{ ...good.targets[1], region: "moon-1" }] }, "targets[0].region must be an AWS region"],
      [{ ...good, localTls: "yes" }, "'localTls' must be true or false"],
      [{ ...good, extra: 1 }, "unknown field 'extra'"],
    ];
    for (const [raw, message] of cases) {
      let error: Error | undefined;
      try {
        parseProfile(raw, "p.json");
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message, message).toContain("Profile p.json: ");
      expect(error?.message, message).toContain(message);
      expect(error?.message.includes("\n"), message).toBe(false);
    }
  });
});
