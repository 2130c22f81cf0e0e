import { describe, expect, test } from "bun:test";
import { exportLines, libpqConnectionString, libpqEnv, libpqQuote, shellQuote } from "./client-env.ts";

const params = {
  endpoint: "db.aaaaaaaaaa.eu-west-1.rds.amazonaws.com",
  localPort: 40001,
  user: "app_ro",
  database: "app",
  caBundle: "/tmp/ca bundle.pem",
};

describe("client environment", () => {
  test("default mode: libpq verifies the real endpoint name and connects to 127.0.0.1", () => {
    expect(libpqEnv(params, "TOKEN")).toEqual({
      PGHOST: params.endpoint,
      PGHOSTADDR: "127.0.0.1",
      PGPORT: "40001",
      PGUSER: "app_ro",
      PGDATABASE: "app",
      PGSSLMODE: "verify-full",
      PGSSLROOTCERT: "/tmp/ca bundle.pem",
      PGPASSWORD: "TOKEN",
    });
  });

  test("hosts-file mode has no hostaddr, and no token means no PGPASSWORD", () => {
    const env = libpqEnv({ ...params, hostaddr: false });
    expect(env.PGHOSTADDR).toBeUndefined();
    expect(env.PGPASSWORD).toBeUndefined();
    expect(env.PGSSLMODE).toBe("verify-full");
  });

  test("connection string never carries a password and quotes libpq values", () => {
    const text = libpqConnectionString(params);
    expect(text).toBe(
      `host=${params.endpoint} hostaddr=127.0.0.1 port=40001 user=app_ro dbname=app sslmode=verify-full sslrootcert='/tmp/ca bundle.pem'`,
    );
    expect(libpqQuote("it's")).toBe("'it\\'s'");
    expect(libpqQuote("")).toBe("''");
  });

  test("export lines get PGPASSWORD from a command, never the token", () => {
    const lines = exportLines(libpqEnv(params, "SECRET-TOKEN-VALUE"), "dbtunnel token --user app_ro");
    expect(lines).not.toContain("SECRET-TOKEN-VALUE");
    expect(lines).toContain("export PGSSLROOTCERT='/tmp/ca bundle.pem'\n");
    expect(lines.trimEnd().split("\n").at(-1)).toBe('export PGPASSWORD="$(dbtunnel token --user app_ro)"');
    expect(shellQuote("a'b")).toBe("'a'\\''b'");
  });
});
