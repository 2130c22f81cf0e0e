import { describe, expect, test } from "bun:test";
import { announce, jdbcUrl, type ProxySettings, reportProxyEvent } from "./proxy-output.ts";
import { Reporter } from "./ui.ts";

const settings: ProxySettings = {
  name: "dev",
  engine: "postgres",
  host: "127.0.0.1",
  port: 15432,
  user: "app_user",
  database: "appdb",
  ssl: "disable",
  localAuth: true,
  endpoint: "dev-db.aaaaaaaaaa.eu-west-1.rds.amazonaws.com",
};
const SECRET = "Zm9vYmFyLWxvY2FsLXNlY3JldC0xMjM0";

function capture(json: boolean) {
  const out: string[] = [];
  const err: string[] = [];
  const ui = new Reporter({
    json,
    tty: false,
    color: false,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
  });
  return { ui, out, err };
}

describe("proxy output", () => {
  test("on a terminal: the GUI settings with the secret as password", () => {
    const { ui, out } = capture(false);
    announce(ui, settings, SECRET, true);
    const text = out.join("");
    for (const line of [
      "Host      127.0.0.1",
      "Port      15432",
      "User      app_user",
      "Database  appdb",
      `Password  ${SECRET}`,
      "SSL       off / disable",
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toContain("JDBC URL  jdbc:postgresql://127.0.0.1:15432/appdb?sslmode=disable");
  });

  test("piped output and JSON name the command that prints the secret, never the secret", () => {
    const piped = capture(false);
    announce(piped.ui, settings, SECRET, false);
    expect(piped.out.join("")).toContain(
      "Password  your local dbtunnel secret: run 'dbtunnel proxy --show-secret'",
    );
    const json = capture(true);
    announce(json.ui, settings, SECRET, false);
    const event = JSON.parse(json.out.join(""));
    expect(event).toMatchObject({
      type: "listening",
      port: 15432,
      password: { command: "dbtunnel proxy --show-secret" },
    });
    expect(json.out.join("") + piped.out.join("")).not.toContain(SECRET);
  });

  test("a line per client connection and disconnection; MySQL's JDBC URL", () => {
    const { ui, err } = capture(false);
    reportProxyEvent(ui, "dev", { type: "client-authenticated", id: 3, user: "app_user", database: "appdb" });
    reportProxyEvent(ui, "dev", {
      type: "client-disconnected",
      id: 3,
      bytesIn: 2048,
      bytesOut: 100,
      ms: 1500,
    });
    expect(err.join("")).toMatch(/dev #3 connected as app_user to appdb\n/);
    expect(err.join("")).toMatch(/dev #3 disconnected \(2\.0 kB in, 100 B out, 1\.5 s\)\n/);
    expect(jdbcUrl({ ...settings, engine: "mysql", database: "shop" })).toBe(
      "jdbc:mysql://127.0.0.1:15432/shop?sslMode=DISABLED",
    );
  });
});
