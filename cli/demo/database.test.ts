import { expect, test } from "bun:test";
import { registerSecret } from "../redact.ts";
import { runSqlClient } from "./database.ts";

test("runSqlClient: SQL on stdin, rows of tab-separated fields, only PATH and the given variables", async () => {
  const rows = await runSqlClient(
    ["sh", "-c", 'cat; printf "%s\\t%s\\n" "$MYSQL_PWD" "$HOME"'],
    { MYSQL_PWD: "pw" },
    "a\tb\n\nc\n",
    "sh",
  );
  expect(rows).toEqual([["a", "b"], ["c"], ["pw", ""]]);
});

test("runSqlClient: a failing client is one line naming it and its first error line, secrets redacted", async () => {
  const token = "demo-token-X-Amz-Signature=abcdef0123456789";
  registerSecret(token);
  const failing = runSqlClient(
    [
      "sh",
      "-c",
      `echo "warning: first"; echo "ERROR 1045 (28000): Access denied, password ${token}" >&2; exit 1`,
    ],
    {},
    "SELECT 1",
    "mariadb as app_engineer",
  );
  await expect(failing).rejects.toThrow(
    /^mariadb as app_engineer failed: ERROR 1045 \(28000\): Access denied/,
  );
  await expect(failing).rejects.not.toThrow(token);
});
