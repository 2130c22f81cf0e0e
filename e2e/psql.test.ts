import { expect, test } from "bun:test";
import { freePort } from "../sandbox/ports.ts";
import { conninfo, runPsql } from "./psql.ts";

const endpoint = "e2e-psql-test.aaaaaaaaaa.us-east-1.rds.amazonaws.com";

test("conninfo always asks for verify-full and quotes values", () => {
  const text = conninfo({
    host: endpoint,
    hostaddr: "127.0.0.1",
    port: 6543,
    dbname: "app",
    user: "o'brien",
    password: "never-in-argv",
    sslrootcert: "/tmp/ca bundle.pem",
  });
  expect(text).toContain("sslmode='verify-full'");
  expect(text).toContain("user='o\\'brien'");
  expect(text).toContain("sslrootcert='/tmp/ca bundle.pem'");
  expect(text).not.toContain("never-in-argv");
});

test("the namespace override makes the endpoint resolve to 127.0.0.1 for psql only", async () => {
  // Nothing listens on this port: psql's error shows which address the name resolved to.
  const port = await freePort();
  const connection = {
    host: endpoint,
    port,
    dbname: "app",
    user: "nobody",
    password: "x",
    sslrootcert: "/dev/null",
  };
  const inNamespace = await runPsql(connection, "SELECT 1;", { kind: "namespace", address: "127.0.0.1" });
  expect(inNamespace.code).not.toBe(0);
  expect(inNamespace.stderr).toContain(`"${endpoint}" (127.0.0.1), port ${port} failed: Connection refused`);
  // Outside the namespace the name does not resolve: the machine's /etc/hosts was never touched.
  const outside = await runPsql(connection, "SELECT 1;");
  expect(outside.stderr).toContain("could not translate host name");
  expect(await Bun.file("/etc/hosts").text()).not.toContain(endpoint);
}, 20_000);
