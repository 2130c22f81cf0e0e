/**
 * Test helpers for other directories (tunnel/, cli/, e2e/): a real moto, a running EC2 "jump host" in
 * it, and the SSM gateway + agent emulator in front of it, with every destination mapped to one local
 * address. `stop()` releases all of it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { generateSandboxCredentials } from "../../sandbox/credentials.ts";
import { type GatewayTestOptions, startGateway } from "../../sandbox/gateway/index.ts";
import type { FaultPlan, Gateway, GatewayOptions, SandboxCredentials } from "../../sandbox/gateway/types.ts";
import { type Moto, startMoto } from "../../sandbox/moto.ts";

export interface TestGatewayOptions {
  /** Where every tunnelled connection goes (e.g. an echo server or a PostgreSQL). */
  readonly destination: { readonly host: string; readonly port: number };
  /** Faults for every session. @default none */
  readonly faults?: FaultPlan;
  /** @default "us-east-1" */
  readonly region?: string;
  /** Also issue a restricted credential pair (StartSession → AccessDenied). @default false */
  readonly restricted?: boolean;
  /** Emulator timings (short handshake / keepalive timeouts for tests). */
  readonly timings?: GatewayTestOptions["timings"];
  /** Sessions in which no tunnel data moved for this long are terminated (the service's idle timeout). @default 20 min */
  readonly idleSessionTimeoutMs?: number;
  /** Gateway log lines (digest failures, faults, dial errors). @default silent */
  readonly log?: (line: string) => void;
  /** Service limits and the deny list's inputs, passed to the gateway as they are. @default none */
  readonly service?: Pick<GatewayOptions, "maxSessionDurationMs" | "lookupHost" | "vpcCidrs">;
}

export interface TestGateway {
  readonly gateway: Gateway;
  readonly moto: Moto;
  /** AWS_* variables for SDK clients and child processes: endpoint, region, sandbox credentials. */
  readonly env: Record<string, string>;
  readonly credentials: Required<SandboxCredentials>;
  /** Present when `restricted: true`. */
  readonly restrictedCredentials?: Required<SandboxCredentials>;
  readonly region: string;
  /** A running EC2 instance in moto: the jump host target. */
  readonly instanceId: string;
  stop(): Promise<void>;
}

/** AWS_* environment for a client using these credentials against `endpoint`. */
export function awsEnv(endpoint: string, region: string, creds: SandboxCredentials): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    ...(creds.sessionToken ? { AWS_SESSION_TOKEN: creds.sessionToken } : {}),
  };
}

/** Starts a running instance in moto (the "jump host") and returns its id. */
export async function runTestInstance(
  motoUrl: string,
  region: string,
  creds: SandboxCredentials,
): Promise<string> {
  const ec2 = new EC2Client({ endpoint: motoUrl, region, credentials: creds });
  try {
    // moto's EXAMPLE_AMI_ID: listing the images first costs seconds (moto loads its whole AMI catalogue).
    const imageId = "ami-12c6146b";
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: imageId, InstanceType: "t3.micro", MinCount: 1, MaxCount: 1 }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId;
    if (!instanceId) throw new Error("moto RunInstances returned no instance");
    return instanceId;
  } finally {
    ec2.destroy();
  }
}

export async function startTestGateway(opts: TestGatewayOptions): Promise<TestGateway> {
  const region = opts.region ?? "us-east-1";
  const dir = mkdtempSync(join(tmpdir(), "dbtunnel-testgw-"));
  const credentials = generateSandboxCredentials();
  const restrictedCredentials = opts.restricted ? generateSandboxCredentials() : undefined;
  let moto: Moto | undefined;
  try {
    moto = await startMoto({ dir });
    const instanceId = await runTestInstance(moto.url, region, credentials);
    const destination = opts.destination;
    const gateway = await startGateway(
      {
        motoUrl: moto.url,
        region,
        credentials,
        ...(restrictedCredentials ? { restrictedCredentials } : {}),
        resolveDestination: async () => ({ host: destination.host, port: destination.port }),
        ...(opts.faults ? { defaultFaults: opts.faults } : {}),
        ...(opts.log ? { log: opts.log } : {}),
        ...(opts.idleSessionTimeoutMs !== undefined
          ? { idleSessionTimeoutMs: opts.idleSessionTimeoutMs }
          : {}),
        ...opts.service,
      },
      opts.timings ? { timings: opts.timings } : {},
    );
    const started = moto;
    return {
      gateway,
      moto: started,
      env: awsEnv(gateway.url, region, credentials),
      credentials,
      ...(restrictedCredentials ? { restrictedCredentials } : {}),
      region,
      instanceId,
      async stop() {
        await gateway.stop();
        await started.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
