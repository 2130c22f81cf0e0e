import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { assertLocalPortFree } from "./local-port.ts";

describe("assertLocalPortFree", () => {
  test("a busy port is one line with the fix; a free one passes", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      await expect(assertLocalPortFree(port)).rejects.toThrow(
        `Local port ${port} is already in use: pick another with --local-port, or omit --local-port to get a free one.`,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await assertLocalPortFree(port);
  });
});
