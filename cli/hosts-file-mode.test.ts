/**
 * `--hosts-file` end to end. Each test runs in a private mount namespace (`unshare -m`) with a temp file
 * bind-mounted over /etc/hosts, so libpq really resolves the RDS endpoint through it and the machine's own
 * /etc/hosts is never touched.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  cleanEnv,
  type FixtureSandbox,
  type SeededStack,
  seedStack,
  startFixtureSandbox,
} from "../test-support/cli/fixtures.ts";
import { CLI } from "../test-support/cli/helpers.ts";

let sandbox: FixtureSandbox;
let stack: SeededStack;
let dir: string;
const ORIGINAL = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n# a comment, and no newline at the end";
const machineHosts = readFileSync("/etc/hosts", "utf8");

beforeAll(async () => {
  sandbox = await startFixtureSandbox();
  stack = await seedStack(sandbox);
  dir = mkdtempSync(join(tmpdir(), "dbtunnel-hostsmode-"));
}, 60_000);

afterAll(async () => {
  await stack?.cleanup();
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
  // The machine's file must be exactly as before.
  expect(readFileSync("/etc/hosts", "utf8")).toBe(machineHosts);
});

/** Runs `script` (sh) in a private mount namespace where /etc/hosts is `hostsFile`; $CLI runs dbtunnel. */
async function inNamespace(
  hostsFile: string,
  script: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn(
    ["unshare", "-m", "sh", "-c", `mount --bind "$HOSTS_FILE" /etc/hosts || exit 99\n${script}`],
    {
      env: cleanEnv({
        ...sandbox.env,
        HOSTS_FILE: hostsFile,
        CLI: CLI.join(" "),
        OUT: stack.outputsFile,
        DIR: dir,
      }),
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

function freshHosts(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, ORIGINAL);
  return path;
}

const blockCount = (text: string) => (text.match(/^# >>> dbtunnel pid=/gm) ?? []).length;

describe("--hosts-file", () => {
  test("the endpoint resolves to 127.0.0.1 through /etc/hosts; libpq verifies it without hostaddr; the file is restored byte for byte", async () => {
    const hosts = freshHosts("hosts-basic");
    const result = await inNamespace(
      hosts,
      `$CLI connect -o "$OUT" --hosts-file --exec -- sh -c 'getent hosts "$PGHOST"; echo "hostaddr=[$PGHOSTADDR]"; psql -tAc "select current_user"'`,
    );
    expect(result.stderr).not.toContain("dbtunnel:");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`^127\\.0\\.0\\.1\\s+${stack.endpoint.replace(/\./g, "\\.")}$`, "m"),
    );
    expect(result.stdout).toContain("hostaddr=[]");
    expect(result.stdout).toContain("app_user");
    expect(readFileSync(hosts, "utf8")).toBe(ORIGINAL);
  }, 30_000);

  test("a run killed with SIGKILL leaves a stale block that the next run heals", async () => {
    const hosts = freshHosts("hosts-kill9");
    const result = await inNamespace(
      hosts,
      `$CLI connect -o "$OUT" --hosts-file --listen > "$DIR/listen.out" 2>&1 &
       pid=$!
       i=0; until grep -q "host=" "$DIR/listen.out" 2>/dev/null; do i=$((i+1)); [ $i -gt 400 ] && exit 98; sleep 0.05; done
       kill -9 $pid; wait $pid
       cp /etc/hosts "$DIR/after-kill"
       echo "killed=$pid"
       $CLI connect -o "$OUT" --hosts-file --exec -- sh -c 'cp /etc/hosts "$DIR/during-second"; psql -tAc "select 7"'`,
    );
    expect(result.code).toBe(0);
    const killedPid = /killed=(\d+)/.exec(result.stdout)?.[1];
    const afterKill = readFileSync(join(dir, "after-kill"), "utf8");
    expect(afterKill).toContain(`# >>> dbtunnel pid=${killedPid} nl >>>`);
    const duringSecond = readFileSync(join(dir, "during-second"), "utf8");
    expect(blockCount(duringSecond)).toBe(1);
    expect(duringSecond).not.toContain(`pid=${killedPid} `);
    expect(result.stdout).toContain("7");
    expect(readFileSync(hosts, "utf8")).toBe(ORIGINAL);
  }, 30_000);

  test("two concurrent runs coexist, each removes only its own block; SIGTERM cleans up", async () => {
    const hosts = freshHosts("hosts-two");
    const result = await inNamespace(
      hosts,
      `$CLI connect -o "$OUT" --hosts-file --listen > "$DIR/first.out" 2>&1 &
       first=$!
       i=0; until grep -q "host=" "$DIR/first.out" 2>/dev/null; do i=$((i+1)); [ $i -gt 400 ] && exit 98; sleep 0.05; done
       $CLI connect -o "$OUT" --hosts-file --exec -- sh -c 'cp /etc/hosts "$DIR/both"; psql -tAc "select 8"'
       echo "second=$?"
       cp /etc/hosts "$DIR/first-only"
       kill -TERM $first; wait $first
       echo "first=$?"`,
    );
    expect(result.stdout).toContain("second=0");
    expect(result.stdout).toContain("first=0");
    expect(blockCount(readFileSync(join(dir, "both"), "utf8"))).toBe(2);
    expect(blockCount(readFileSync(join(dir, "first-only"), "utf8"))).toBe(1);
    expect(readFileSync(hosts, "utf8")).toBe(ORIGINAL);
  }, 30_000);

  test("Ctrl-C on a listening run removes its block", async () => {
    const hosts = freshHosts("hosts-int");
    const result = await inNamespace(
      hosts,
      `$CLI connect -o "$OUT" --hosts-file --listen > "$DIR/int.out" 2>&1 &
       pid=$!
       i=0; until grep -q "host=" "$DIR/int.out" 2>/dev/null; do i=$((i+1)); [ $i -gt 400 ] && exit 98; sleep 0.05; done
       cp /etc/hosts "$DIR/int-during"
       kill -INT $pid; wait $pid; echo "code=$?"`,
    );
    expect(result.stdout).toContain("code=0");
    expect(blockCount(readFileSync(join(dir, "int-during"), "utf8"))).toBe(1);
    expect(readFileSync(hosts, "utf8")).toBe(ORIGINAL);
  }, 30_000);
});
