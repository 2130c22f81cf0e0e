import { expect, test } from "bun:test";
import { loadOpenTunnel, loadPiece, loadPolicy, loadStartSandbox, MissingPieceError } from "./pieces.ts";

test("a missing file fails naming the file, its owner and the export the flow needs", async () => {
  const attempt = loadPiece("sandbox/not-built-yet.ts", "startSandbox", "sandbox helper");
  await expect(attempt).rejects.toBeInstanceOf(MissingPieceError);
  await expect(attempt).rejects.toThrow(
    "sandbox/not-built-yet.ts is missing (sandbox helper): the e2e flow needs its 'startSandbox'",
  );
});

test("a file without the export fails naming both", async () => {
  await expect(loadPiece("policy/index.ts", "notThere", "policy helper")).rejects.toThrow(
    "policy/index.ts does not export 'notThere' (policy helper) yet",
  );
});

test("the pieces the flow uses are all in the tree", async () => {
  expect(typeof (await loadStartSandbox())).toBe("function");
  expect(typeof (await loadOpenTunnel())).toBe("function");
  const policy = await loadPolicy();
  expect(typeof policy.auditFile).toBe("function");
  expect(typeof policy.renderAuditTable).toBe("function");
});
