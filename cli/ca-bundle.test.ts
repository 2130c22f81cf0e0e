import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeUnrelatedCa } from "../test-support/certificates.ts";
import { countCertificates, resolveCaBundle } from "./ca-bundle.ts";

const dir = mkdtempSync(join(tmpdir(), "dbtunnel-ca-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pem = readFileSync(makeUnrelatedCa(dir, "test-ca"), "utf8");

describe("CA bundle", () => {
  test("--ca-bundle wins, and a file without a certificate is refused", async () => {
    const good = join(dir, "good.pem");
    writeFileSync(good, pem + pem);
    const bundle = await resolveCaBundle({ flag: good, env: { DBTUNNEL_CA_BUNDLE: "/elsewhere.pem" } });
    expect(bundle).toEqual({ path: good, source: "flag", certificates: 2 });
    const bad = join(dir, "bad.pem");
    writeFileSync(bad, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
    await expect(resolveCaBundle({ flag: bad })).rejects.toThrow("holds no PEM certificate");
    await expect(resolveCaBundle({ flag: join(dir, "missing.pem") })).rejects.toThrow("no such file");
  });

  test("DBTUNNEL_CA_BUNDLE is used when no flag is given", async () => {
    const file = join(dir, "env.pem");
    writeFileSync(file, pem);
    expect((await resolveCaBundle({ env: { DBTUNNEL_CA_BUNDLE: file } })).source).toBe("env");
  });

  test("downloads once into the cache, then uses the cache", async () => {
    let hits = 0;
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch() {
        hits++;
        return new Response(pem);
      },
    });
    try {
      const env = {
        DBTUNNEL_CACHE_DIR: join(dir, "cache"),
        DBTUNNEL_CA_BUNDLE_URL: `http://127.0.0.1:${server.port}/global-bundle.pem`,
      };
      const first = await resolveCaBundle({ env });
      expect(first.source).toBe("download");
      const second = await resolveCaBundle({ env });
      expect(second).toEqual({ ...first, source: "cache" });
      expect(hits).toBe(1);
    } finally {
      server.stop(true);
    }
  });

  test("a failed download says to pass --ca-bundle", async () => {
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => new Response("nope", { status: 404 }),
    });
    const env = {
      DBTUNNEL_CACHE_DIR: join(dir, "cache2"),
      DBTUNNEL_CA_BUNDLE_URL: `http://127.0.0.1:${server.port}/x.pem`,
    };
    try {
      await expect(resolveCaBundle({ env })).rejects.toThrow(
        `Could not download the RDS CA bundle from http://127.0.0.1:${server.port}/x.pem (HTTP 404): download it where you have access and pass --ca-bundle <file> (or set DBTUNNEL_CA_BUNDLE).`,
      );
    } finally {
      server.stop(true);
    }
    // No server at all (like no internet): still one line with the fix.
    await expect(resolveCaBundle({ env })).rejects.toThrow("pass --ca-bundle <file>");
    const garbage = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => new Response("<html>captive portal</html>"),
    });
    try {
      const env2 = { ...env, DBTUNNEL_CA_BUNDLE_URL: `http://127.0.0.1:${garbage.port}/x.pem` };
      await expect(resolveCaBundle({ env: env2 })).rejects.toThrow("holds no certificate");
    } finally {
      garbage.stop(true);
    }
  });

  test("countCertificates only counts parseable certificates", () => {
    expect(countCertificates(pem)).toBe(1);
    expect(countCertificates("junk")).toBe(0);
  });
});
