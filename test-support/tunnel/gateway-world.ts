/**
 * The integration tests' world: a destination server (every session's far end), the sandbox gateway and
 * agent emulator routing to it, and an SSM client for that gateway. Registered as beforeAll / afterAll of the
 * file (or describe block) that calls it; its fields can be read once the tests run.
 */
import { afterAll, beforeAll } from "bun:test";
import { SSMClient } from "@aws-sdk/client-ssm";
import { startTestGateway, type TestGateway, type TestGatewayOptions } from "../sandbox/test-gateway.ts";
import { type Destination, startDestination } from "./destination.ts";

export interface GatewayWorld {
  readonly dest: Destination;
  readonly gw: TestGateway;
  readonly ssm: SSMClient;
}

export function gatewayWorld(options: Omit<TestGatewayOptions, "destination"> = {}): GatewayWorld {
  let dest: Destination | undefined;
  let gw: TestGateway | undefined;
  let ssm: SSMClient | undefined;
  beforeAll(async () => {
    dest = await startDestination();
    gw = await startTestGateway({ ...options, destination: dest });
    ssm = new SSMClient({ endpoint: gw.gateway.url, region: gw.region, credentials: gw.credentials });
  }, 60_000);
  afterAll(async () => {
    ssm?.destroy();
    await gw?.stop();
    await dest?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("gatewayWorld is read before its beforeAll started it");
    return value;
  };
  return {
    get dest() {
      return started(dest);
    },
    get gw() {
      return started(gw);
    },
    get ssm() {
      return started(ssm);
    },
  };
}
