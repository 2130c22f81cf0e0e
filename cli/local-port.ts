/** Checks a chosen local port before any AWS session is opened, so "port in use" costs nothing. */
import { createServer } from "node:net";
import { CliError } from "./errors.ts";

export async function assertLocalPortFree(port: number, host = "127.0.0.1"): Promise<void> {
  const problem = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(null)));
  });
  if (!problem) return;
  if (problem.code === "EADDRINUSE") throw portInUse(port);
  if (problem.code === "EACCES") {
    throw new CliError(
      `Local port ${port} needs privileges to bind: choose a port above 1023 with --local-port, or omit it for a free one.`,
      { code: "LocalPortInUse" },
    );
  }
  throw new CliError(`Cannot listen on ${host}:${port} (${problem.code ?? problem.message}).`, {
    code: "LocalPort",
  });
}

export function portInUse(port: number): CliError {
  return new CliError(
    `Local port ${port} is already in use: pick another with --local-port, or omit --local-port to get a free one.`,
    { code: "LocalPortInUse" },
  );
}
