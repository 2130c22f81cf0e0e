import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApplyProgress, failureSummary, groupsOf, runLogged } from "./terraform.ts";

test("ApplyProgress counts completions and names the longest wait", () => {
  const p = new ApplyProgress("created", 45);
  const lines = [
    "e2e-x  aws_vpc.network_vpc_4E8F0223 (network/vpc): Creating...",
    "e2e-x  aws_db_instance.database_instance_D7FC2283 (database/instance): Creating...",
    "e2e-x  aws_vpc.network_vpc_4E8F0223 (network/vpc): Creation complete after 2s [id=vpc-1]",
    "e2e-x  aws_db_instance.database_instance_D7FC2283 (database/instance): Still creating... [2m40s elapsed]",
    "       aws_kms_key.key_F64E54E4 (key/key): Still creating... [10s elapsed]",
    "Plan: 45 to add, 0 to change, 0 to destroy.",
  ];
  expect(lines.map((l) => p.feed(l))).toEqual([true, true, true, true, true, false]);
  expect(p.text()).toBe("1/45 created · waiting on aws_db_instance.database_instance (2m40s)");
  const d = new ApplyProgress("destroyed", undefined);
  d.feed("x  aws_vpc.v (network/vpc): Destruction complete after 1s");
  expect(d.text()).toBe("1 destroyed");
});

test("failureSummary picks Terraform's Error lines out of the box drawing", () => {
  const tail = [
    "e2e-x  ╷",
    "       │ Error: creating EC2 Instance: InvalidParameterValue: bad AMI",
    "       │   with aws_instance.jumphost,",
    "       ╵",
    "[2026-11-21T14:04:08.137] [ERROR] default - Error: terraform apply failed",
  ];
  expect(failureSummary(tail)).toBe(
    "Error: creating EC2 Instance: InvalidParameterValue: bad AMI | Error: terraform apply failed",
  );
  expect(failureSummary(["a", "b", "c", "d"])).toBe("b | c | d");
});

test("runLogged logs redacted lines, and an abort interrupts children in their own session too", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dbtunnel-run-"));
  try {
    const logPath = join(dir, "run.log");
    const controller = new AbortController();
    const seen: string[] = [];
    // The grandchild runs in its own session like terraform under cdktf's node-pty; it reports SIGINT.
    // (python, because a shell's background job starts with SIGINT ignored and cannot trap it)
    const grandchild =
      "import signal, sys, time\n" +
      "signal.signal(signal.SIGINT, lambda *a: (print('grandchild-interrupted', flush=True), sys.exit(0)))\n" +
      "print('started X-Amz-Signature=abcdef123', flush=True)\n" +
      "while True: time.sleep(0.05)\n";
    const script = `setsid python3 -c "$0" & wait`;
    const running = runLogged({
      cmd: ["sh", "-c", script, grandchild],
      cwd: dir,
      env: { PATH: process.env.PATH ?? "" },
      logPath,
      signal: controller.signal,
      graceMs: 5000,
      onLine: (line) => {
        seen.push(line);
        if (line.startsWith("started")) setTimeout(() => controller.abort(), 200);
      },
    });
    const result = await running;
    expect(result.interrupted).toBe(true);
    expect(seen).toContain("grandchild-interrupted");
    const log = readFileSync(logPath, "utf8");
    expect(log).toContain("X-Amz-Signature=[redacted]");
    expect(log).not.toContain("abcdef123");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 20_000);

test("groupsOf includes the process's own group", () => {
  expect(groupsOf(process.pid)).toContain(process.pid);
});
