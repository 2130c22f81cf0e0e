/**
 * The documented database-user SQL: the README shows exactly what postgresUserSql/mysqlUserSql render, and
 * on a real PostgreSQL 15, run by a master user that is no superuser (as on RDS), the read-only variant
 * reads but cannot write or create, the read-write variant can create tables and write.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type postgres from "postgres";
import { type Sandbox, startSandbox } from "../sandbox/index.ts";
import { mysqlUserSql, postgresUserSql } from "./database-users.ts";

describe("rendering", () => {
  test("the README shows the SQL exactly as rendered for its example users", () => {
    const readme = readFileSync(join(import.meta.dir, "..", "README.md"), "utf8");
    for (const sql of [
      postgresUserSql({ user: "app_readonly", database: "app", access: "read-only" }),
      postgresUserSql({ user: "app_engineer", database: "app", access: "read-write" }),
      mysqlUserSql({ user: "app_engineer", database: "app", access: "read-write" }),
    ]) {
      expect(readme).toContain(`\`\`\`sql\n${sql}\n\`\`\``);
    }
  });

  test("a user or database name that would inject SQL is refused", () => {
    expect(() => postgresUserSql({ user: "x; drop table t", database: "app", access: "read-only" })).toThrow(
      "database user SQL: must be a database user name",
    );
    expect(() => mysqlUserSql({ user: "u", database: "a`b", access: "read-write" })).toThrow(
      "must be a database name",
    );
  });
});

describe("on PostgreSQL 15, run by a non-superuser master user", () => {
  let sandbox: Sandbox;
  let superuser: postgres.Sql;
  let app: postgres.Sql;

  beforeAll(async () => {
    sandbox = await startSandbox({ log: () => {} });
    superuser = sandbox.postgres.connect();
    // What RDS gives the master user: CREATEROLE, owner of the database, admin of rds_iam; no superuser.
    await superuser.unsafe("CREATE ROLE dbadmin LOGIN CREATEROLE");
    await superuser.unsafe("GRANT rds_iam TO dbadmin WITH ADMIN OPTION");
    await superuser.unsafe("CREATE DATABASE app OWNER dbadmin");
    app = sandbox.postgres.connect("app");
    await app.unsafe(`
      SET ROLE dbadmin;
      CREATE TABLE public.orders (id serial PRIMARY KEY, item text);
      INSERT INTO public.orders (item) VALUES ('one');
      ${postgresUserSql({ user: "app_readonly", database: "app", access: "read-only" })}
      ${postgresUserSql({ user: "app_engineer", database: "app", access: "read-write" })}
      CREATE TABLE public.later (id int);
      RESET ROLE;
    `);
  }, 60_000);

  afterAll(async () => {
    await app?.end({ timeout: 1 });
    await superuser?.end({ timeout: 1 });
    await sandbox?.stop();
  });

  /** Runs `statement` as `role` (SET ROLE drops the superuser's privileges); the error text or "ok". */
  async function as(role: string, statement: string): Promise<string> {
    try {
      await app.begin(async (tx) => {
        await tx.unsafe(`SET LOCAL ROLE ${role}`);
        await tx.unsafe(statement);
      });
      return "ok";
    } catch (error) {
      return (error as Error).message;
    }
  }

  test("both are IAM users (members of rds_iam) and nothing more", async () => {
    const rows = await app.unsafe(
      "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, pg_has_role(rolname, 'rds_iam', 'MEMBER') AS iam FROM pg_roles WHERE rolname IN ('app_readonly', 'app_engineer') ORDER BY rolname",
    );
    expect(rows.map((r) => [r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.iam])).toEqual([
      ["app_engineer", false, false, false, true],
      ["app_readonly", false, false, false, true],
    ]);
  });

  test("read-only reads existing and later tables, and cannot write or create", async () => {
    expect(await as("app_readonly", "SELECT * FROM public.orders")).toBe("ok");
    expect(await as("app_readonly", "SELECT * FROM public.later")).toBe("ok");
    expect(await as("app_readonly", "INSERT INTO public.orders (item) VALUES ('x')")).toContain(
      "permission denied",
    );
    expect(await as("app_readonly", "CREATE TABLE public.mine (id int)")).toContain("permission denied");
  });

  test("read-write creates tables, writes rows and uses sequences; creates no roles or schemas", async () => {
    expect(await as("app_engineer", "CREATE TABLE public.notes (id int PRIMARY KEY, body text)")).toBe("ok");
    expect(await as("app_engineer", "INSERT INTO public.orders (item) VALUES ('two')")).toBe("ok");
    expect(await as("app_engineer", "UPDATE public.later SET id = 1; DELETE FROM public.later")).toBe("ok");
    expect(await as("app_engineer", "CREATE TEMP TABLE scratch (id int)")).toBe("ok");
    expect(await as("app_engineer", "CREATE ROLE intruder")).toContain("permission denied");
    expect(await as("app_engineer", "CREATE SCHEMA other")).toContain("permission denied");
  });
});
