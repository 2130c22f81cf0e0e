/**
 * The demo's flow as named steps (`dbtunnel demo`): sandbox up → synth + policy audit → cdktf deploy →
 * jump host online → no ingress (live APIs) → session → IAM user → verify-full login → close → destroy →
 * nothing left → sandbox stopped. The connection steps are the connect pipeline's (cli/pipeline/).
 * The e2e suite runs the same deploy and destroy with its own checks in between (FlowExtension): it drives
 * the real `dbtunnel` CLI instead of these in-process connection steps.
 */

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ENGINE_FACTS, type EngineProtocol } from "../../contract/engines.ts";
import { auditFile, renderAuditTable } from "../../policy/index.ts";
import { startSandbox } from "../../sandbox/index.ts";
import { loadConfig } from "../../stacks/config.ts";
import { applyEnvOverrides } from "../../stacks/env-overrides.ts";
import { terraformEnv } from "../../stacks/terraform-env.ts";
import type { Tunnel, TunnelEvent } from "../../tunnel/types.ts";
import { readOutputsFile, targetFromOutputs } from "../outputs.ts";
import {
  awsClients,
  clientParameters,
  openSession,
  type PipelineReporter,
  readyJumpHost,
  signToken,
} from "../pipeline/index.ts";
import { registerSecret } from "../redact.ts";
import type { StackTarget } from "../target.ts";
import { userEnvironment } from "../user-environment.ts";
import { type AwsClients, type AwsCredentials, clientConfigFromEnv, makeClients } from "./aws-clients.ts";
import { createIamUser, iamLogin, masterLogin, type TlsDetails } from "./database.ts";
import { createIamUserMysql, iamLoginMysql } from "./database-mysql.ts";
import { type DeployedResource, findLeftovers, resourcesFromShowJson } from "./leftovers.ts";
import { collectIngressSnapshot, evaluateIngress, renderFindings } from "./no-ingress.ts";
import { missingToolsMessage } from "./prerequisites.ts";
import { type FlowReporter, FlowRun, type PlannedStep, type StepContext, type StepResult } from "./runner.ts";
import { ApplyProgress, CDKTF_BIN, failureSummary, PROJECT_ROOT, runLogged } from "./terraform.ts";

/** Where the stack goes: the local sandbox account, or a real account (the e2e suite's nightly run). */
export type FlowTarget = "sandbox" | "aws";

/** What the flow needs of a sandbox: startSandbox()'s, or the daemon's of 'dbtunnel sandbox up' (demo --keep). */
export interface SandboxHandle {
  /** AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, DBTUNNEL_CA_BUNDLE, ... */
  readonly env: Readonly<Record<string, string>>;
  readonly caBundlePath: string;
  readonly region: string;
  readonly gateway?: { activeSessions(): string[] };
  stop(): Promise<void>;
}

export interface FlowOptions {
  readonly target: FlowTarget;
  readonly reporter: FlowReporter;
  /** Ctrl-C: stops the main line, then destroy and stop still run. */
  readonly signal?: AbortSignal;
  /** @default `<namePrefix>-<time>-<random>`, unique per run */
  readonly stackName?: string;
  /** @default "demo" */
  readonly namePrefix?: string;
  /** @default DBTUNNEL_CONFIG or <project>/dbtunnel.config.json */
  readonly configPath?: string;
  /** Required for the aws target: refuses unless the credentials are the account the run may touch. */
  readonly verifyAccount?: (clients: AwsClients) => Promise<string>;
  /** Print the whole policy audit table. @default false */
  readonly showAuditTable?: boolean;
  /** The caller's own steps after deploy and in place of the in-process connection steps (the e2e suite). */
  readonly extension?: FlowExtension;
  /** Leave stack, tunnel-less sandbox and work dir in place at the end (demo --keep). */
  readonly keep?: boolean;
  /** How the sandbox is started. @default startSandbox() from sandbox/index.ts (stops with this process) */
  readonly startSandbox?: (region: string, signal: AbortSignal) => Promise<SandboxHandle>;
  /** @default `<project>/.dbtunnel/runs/<stackName>` */
  readonly workDir?: string;
}

export interface FlowOutcome {
  readonly results: readonly StepResult[];
  readonly stackName: string;
  readonly region: string;
  readonly workDir: string;
  /** Present once the verify-full IAM login worked. */
  readonly tls?: TlsDetails & {
    readonly endpoint: string;
    readonly localPort: number;
    readonly sessionId: string;
  };
  /** Sandbox env (for `--keep`: how to reach the kept sandbox). Never contains real credentials. */
  readonly sandboxEnv?: Readonly<Record<string, string>>;
  readonly outputsFile?: string;
  /** Present when the flow failed: the one-line FlowError message. */
  readonly error?: string;
}

/** The stack as deployed, for a FlowExtension's steps. */
export interface DeployedStack {
  readonly stackName: string;
  readonly target: StackTarget;
  /** The raw outputs of the stack (what `cdktf deploy --outputs-file` wrote). */
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly outputsFile: string;
  readonly stackDir: string;
  readonly logPath: string;
  /** AWS_* (and DBTUNNEL_CA_BUNDLE for the sandbox): what a `dbtunnel` child needs to reach the account. */
  readonly awsEnv: Readonly<Record<string, string>>;
  /** Environment of the Terraform children. */
  readonly childEnv: Readonly<Record<string, string>>;
  readonly clients: AwsClients;
  readonly credentials: () => Promise<AwsCredentials>;
  readonly caBundlePath?: string;
  readonly sandbox?: SandboxHandle;
}

/** Steps a caller adds: `afterDeploy` right after deploy, `connect` instead of the in-process connection. */
export interface FlowExtension {
  readonly afterDeploySteps: readonly PlannedStep[];
  afterDeploy(run: FlowRun, stack: DeployedStack): Promise<void>;
  readonly connectSteps: readonly PlannedStep[];
  /** Runs the connection steps; must leave no session open (the cleanup only closes the flow's own). */
  connect(run: FlowRun, stack: DeployedStack): Promise<void>;
}

const BEFORE_DEPLOY: readonly PlannedStep[] = [
  { name: "preflight", title: "check tools and target account" },
  { name: "sandbox-up", title: "start the sandbox account" },
  { name: "synth", title: "synthesize the stack (cdktf synth)" },
  { name: "policy-audit", title: "security policy audit of cdk.tf.json" },
  { name: "deploy", title: "deploy (cdktf deploy)" },
];
const ONLINE: readonly PlannedStep[] = [
  { name: "ssm-online", title: "jump host online in Session Manager" },
  { name: "no-ingress", title: "no ingress (live EC2/RDS APIs)" },
];
/** The in-process connection: the connect pipeline's session, token and client parameters. */
const CONNECT: Readonly<Record<EngineProtocol, readonly PlannedStep[]>> = {
  postgres: [
    { name: "tunnel", title: "open the port-forwarding session" },
    { name: "db-setup", title: "create the IAM database user as master" },
    { name: "iam-hostaddr", title: "IAM token + verify-full via hostaddr, DDL/DML" },
    { name: "tunnel-close", title: "close the session" },
  ],
  // MySQL clients have no hostaddr: the client runs where the endpoint name resolves to the tunnel.
  mysql: [
    { name: "tunnel", title: "open the port-forwarding session" },
    { name: "db-setup", title: "create the IAM database user as master (AWSAuthenticationPlugin)" },
    {
      name: "iam-private-hosts",
      title: "IAM token + TLS with hostname verification (private hosts namespace), DDL/DML",
    },
    { name: "tunnel-close", title: "close the session" },
  ],
};
const CLEANUP: readonly PlannedStep[] = [
  { name: "destroy", title: "destroy (cdktf destroy)" },
  { name: "leftovers", title: "nothing tagged with the stack is left" },
  { name: "sandbox-stop", title: "stop the sandbox account" },
];
const SANDBOX_ONLY = new Set(["sandbox-up", "sandbox-stop"]);

export function planFor(
  target: FlowTarget,
  extension?: FlowExtension,
  protocol: EngineProtocol = "postgres",
): PlannedStep[] {
  return [
    ...BEFORE_DEPLOY,
    ...(extension?.afterDeploySteps ?? []),
    ...ONLINE,
    ...(extension?.connectSteps ?? CONNECT[protocol]),
    ...CLEANUP,
  ].filter((step) => target === "sandbox" || !SANDBOX_ONLY.has(step.name));
}

/** The schema the demo's IAM user writes its table in: the one the README's read-write grants cover. */
const DEMO_SCHEMA = "public";

/** Stack names must match stacks/env-overrides.ts: 3-40 chars, lowercase, digits, hyphens. */
export function uniqueStackName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
}

/** Mutable state the steps hand to each other. */
interface State {
  sandbox?: SandboxHandle;
  awsEnv: Record<string, string>;
  clients?: AwsClients;
  region: string;
  caBundlePath?: string;
  childEnv: Record<string, string>;
  synthesized: boolean;
  resourceCount?: number;
  deployAttempted: boolean;
  target?: StackTarget;
  rawOutputs?: Record<string, unknown>;
  ssmTarget?: string;
  tunnel?: Tunnel;
  tunnelEvents: TunnelEvent[];
  tls?: FlowOutcome["tls"];
  deployed: DeployedResource[];
}

export async function runFlow(o: FlowOptions): Promise<FlowOutcome> {
  const stackName = o.stackName ?? uniqueStackName(o.namePrefix ?? "demo");
  const workDir = o.workDir ?? join(PROJECT_ROOT, ".dbtunnel", "runs", stackName);
  const outDir = join(workDir, "cdktf.out");
  const stackDir = join(outDir, "stacks", stackName);
  const outputsFile = join(workDir, "outputs.json");
  const logPath = join(workDir, "terraform.log");
  const configPath =
    o.configPath ?? process.env.DBTUNNEL_CONFIG ?? join(PROJECT_ROOT, "dbtunnel.config.json");
  const signal = o.signal ?? new AbortController().signal;

  // The config names the region and the IAM users; the overrides give the stack its unique name.
  const overrides = { DBTUNNEL_STACK_NAME: stackName, DBTUNNEL_DELETION_PROTECTION: "false" };
  const stackConfig = applyEnvOverrides(loadConfig(configPath), overrides).stacks[0];
  if (!stackConfig) throw new Error(`${configPath} has no stack`);
  const protocol = ENGINE_FACTS[stackConfig.database.engine].protocol;
  const run = new FlowRun(planFor(o.target, o.extension, protocol), o.reporter, signal);
  mkdirSync(workDir, { recursive: true });
  const s: State = {
    awsEnv: {},
    region: stackConfig.region,
    childEnv: {},
    synthesized: false,
    deployAttempted: false,
    tunnelEvents: [],
    deployed: [],
  };
  const cdktf = (args: string[], ctx: StepContext, onLine?: (line: string) => void) =>
    runLogged({
      cmd: ["node", CDKTF_BIN, ...args],
      cwd: PROJECT_ROOT,
      env: s.childEnv,
      logPath,
      onLine,
      signal: ctx.signal,
    });
  const credentials = async (): Promise<AwsCredentials> => {
    if (!s.clients) throw new Error("no AWS clients");
    const c = await s.clients.sts.config.credentials();
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
  };

  // The connect pipeline's clients, pointed at the flow's account (the sandbox is not in process.env).
  const pipelineClients = () =>
    awsClients(s.region, {
      endpoint: s.awsEnv.AWS_ENDPOINT_URL,
      credentials:
        o.target === "sandbox" && s.awsEnv.AWS_ACCESS_KEY_ID && s.awsEnv.AWS_SECRET_ACCESS_KEY
          ? {
              accessKeyId: s.awsEnv.AWS_ACCESS_KEY_ID,
              secretAccessKey: s.awsEnv.AWS_SECRET_ACCESS_KEY,
              sessionToken: s.awsEnv.AWS_SESSION_TOKEN,
            }
          : undefined,
    });

  /** The demo's connection: session → IAM user (as master) → IAM token login → close. */
  const connectInProcess = async () => {
    const caBundle = () => need(s.caBundlePath, "a CA bundle (DBTUNNEL_CA_BUNDLE) for verify-full");
    const iamUser = () => need(s.target?.db.iamUsers[0], "an IAM database user in output db_iam_users");
    await run.step("tunnel", async (ctx) => {
      const target = need(s.target, "stack outputs");
      s.tunnel = await openSession(
        target,
        {
          ssmTarget: need(s.ssmTarget, "Session Manager target"),
          ssm: await pipelineClients().ssm(),
          reason: `dbtunnel demo ${stackName}`,
          signal: ctx.signal,
        },
        stepReporter(ctx),
      );
      s.tunnel.on((event) => s.tunnelEvents.push(event));
      return `session ${s.tunnel.sessionId} (${s.tunnel.mode}) listening on ${s.tunnel.host}:${s.tunnel.port} → ${target.db.endpoint}:${target.db.port}`;
    });

    await run.step("db-setup", async () => {
      const target = need(s.target, "stack outputs");
      const master = await masterLogin(need(s.clients, "AWS clients").secrets, target, s.rawOutputs ?? {});
      const params = clientParameters(target, {
        localPort: need(s.tunnel, "the tunnel").port,
        user: master.user,
        caBundle: caBundle(),
      });
      return protocol === "mysql"
        ? createIamUserMysql(params, master.password, iamUser())
        : createIamUser(params, master.password, iamUser(), DEMO_SCHEMA);
    });

    await run.step(protocol === "mysql" ? "iam-private-hosts" : "iam-hostaddr", async (ctx) => {
      const target = need(s.target, "stack outputs");
      const tunnel = need(s.tunnel, "the tunnel");
      const params = clientParameters(target, {
        localPort: tunnel.port,
        user: iamUser(),
        caBundle: caBundle(),
      });
      const token = await signToken(target, params.user, await credentials());
      const tls =
        protocol === "mysql"
          ? await iamLoginMysql(params, token)
          : await iamLogin(params, token, DEMO_SCHEMA);
      s.tls = { ...tls, endpoint: target.db.endpoint, localPort: tunnel.port, sessionId: tunnel.sessionId };
      ctx.note(
        [
          `current_user   ${tls.user}`,
          `ssl            ${tls.ssl}`,
          `TLS version    ${tls.tlsVersion}`,
          `cipher         ${tls.cipher}${tls.bits ? ` (${tls.bits} bits)` : ""}`,
          `server         ${protocol === "mysql" ? "MySQL" : "PostgreSQL"} ${tls.serverVersion} at ${target.db.endpoint}:${target.db.port}`,
          protocol === "mysql"
            ? `verified by    the client's hostname verification against ${params.caBundle}`
            : `verified by    sslmode=verify-full against ${params.caBundle}`,
        ].join("\n"),
      );
      return `${tls.user} over ${tls.tlsVersion}; DDL + DML ok`;
    });

    // Also with --keep: the demo's own session ends with it; 'dbtunnel connect' opens a fresh one.
    await run.step("tunnel-close", async () => closeTunnel(s));
  };

  let error: string | undefined;
  try {
    await run.step("preflight", async () => {
      const missing = missingToolsMessage((tool) => Bun.which(tool));
      if (missing) throw new Error(missing);
      if (!existsSync(CDKTF_BIN)) throw new Error(`cdktf CLI not found at ${CDKTF_BIN}: run 'npm ci'`);
      if (o.target === "aws") {
        if (!o.verifyAccount)
          throw new Error("the aws target needs the expected account id (DBTUNNEL_E2E_ACCOUNT)");
        const bundle = process.env.DBTUNNEL_CA_BUNDLE;
        if (!bundle || !existsSync(bundle)) {
          throw new Error(
            "the aws target needs DBTUNNEL_CA_BUNDLE = a downloaded RDS global bundle (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem)",
          );
        }
        s.clients = makeClients({ region: s.region });
        const who = await o.verifyAccount(s.clients);
        return `account confirmed (${who}), region ${s.region}`;
      }
      return `stack ${stackName}, region ${s.region}`;
    });

    if (o.target === "sandbox") {
      await run.step("sandbox-up", async (ctx) => {
        const start =
          o.startSandbox ??
          (async (region: string, sig: AbortSignal) =>
            // Sandbox log lines (e.g. the refused tokens of the negative checks) belong in the report.
            {
              const sandbox = await startSandbox({
                region,
                signal: sig,
                log: (line) => ctx.note(`sandbox: ${line}`),
              });
              return {
                env: { ...sandbox.env },
                caBundlePath: sandbox.caBundlePath,
                region: sandbox.region,
                gateway: sandbox.gateway,
                stop: () => sandbox.stop(),
              };
            });
        const started = performance.now();
        // startSandbox stops the sandbox when its signal aborts at ANY time; Ctrl-C must only cancel the
        // start-up, because destroy still needs the sandbox afterwards.
        const startup = new AbortController();
        const forward = () => startup.abort();
        ctx.signal.addEventListener("abort", forward, { once: true });
        try {
          s.sandbox = await start(s.region, startup.signal);
        } finally {
          ctx.signal.removeEventListener("abort", forward);
        }
        if (s.sandbox.region && s.sandbox.region !== s.region) {
          throw new Error(`the sandbox runs in ${s.sandbox.region} but the stack deploys to ${s.region}`);
        }
        s.awsEnv = { ...s.sandbox.env };
        s.caBundlePath = s.sandbox.caBundlePath;
        s.clients = makeClients(clientConfigFromEnv(s.awsEnv));
        for (const secret of [s.awsEnv.AWS_SECRET_ACCESS_KEY, s.awsEnv.AWS_SESSION_TOKEN])
          registerSecret(secret);
        return `gateway ${s.awsEnv.AWS_ENDPOINT_URL} ready in ${Math.round(performance.now() - started)} ms`;
      });
    }
    s.childEnv = childEnvironment(o.target, s.awsEnv, overrides, configPath);
    if (o.target === "aws") s.caBundlePath = process.env.DBTUNNEL_CA_BUNDLE;

    await run.step("synth", async (ctx) => {
      rmSync(outDir, { recursive: true, force: true });
      const r = await cdktf(["synth", "--output", outDir, "--no-color"], ctx);
      if (r.interrupted) throw new Error("interrupted (Ctrl-C)");
      if (r.code !== 0)
        throw new Error(`cdktf synth exited ${r.code}: ${failureSummary(r.tail)} (log: ${logPath})`);
      const file = join(stackDir, "cdk.tf.json");
      if (!existsSync(file))
        throw new Error(`synth wrote no ${file}: is ${stackName} the only stack in the config?`);
      s.synthesized = true;
      const tf = JSON.parse(readFileSync(file, "utf8")) as {
        resource?: Record<string, Record<string, unknown>>;
      };
      s.resourceCount = Object.values(tf.resource ?? {}).reduce(
        (n, byName) => n + Object.keys(byName).length,
        0,
      );
      return `${s.resourceCount} resources in ${file.replace(`${PROJECT_ROOT}/`, "")}`;
    });

    await run.step("policy-audit", async (ctx) => {
      // auditFile adds the suppressions (with reasons) that the synth aspect recorded in the file.
      const report = auditFile(join(stackDir, "cdk.tf.json"), {
        suppressions: loadConfig(configPath).policy.suppressions,
      });
      if (o.showAuditTable) ctx.note(renderAuditTable(report));
      const count = (status: string) => report.results.filter((r) => r.status === status).length;
      if (report.violations.length > 0) {
        const first = report.violations[0];
        throw new Error(
          `${report.violations.length} policy violations, first: ${first?.ruleId} on ${first?.resource ?? "?"}: ${first?.message} (fix: ${first?.fix})`,
        );
      }
      return `${count("compliant")} compliant, ${count("suppressed")} suppressed, ${count("not-applicable")} not applicable, 0 violations`;
    });

    await run.step("deploy", async (ctx) => {
      s.deployAttempted = true;
      const progress = new ApplyProgress("created", s.resourceCount);
      const r = await cdktf(
        [
          "deploy",
          stackName,
          "--auto-approve",
          "--skip-synth",
          "--skip-provider-lock",
          "--output",
          outDir,
          "--outputs-file",
          outputsFile,
          "--no-color",
        ],
        ctx,
        (line) => {
          if (progress.feed(line)) ctx.progress(progress.text());
        },
      );
      if (r.interrupted) throw new Error("interrupted (Ctrl-C) while Terraform was applying");
      if (r.timedOut) throw new Error(`cdktf deploy timed out (log: ${logPath})`);
      if (r.code !== 0)
        throw new Error(`cdktf deploy exited ${r.code}: ${failureSummary(r.tail)} (log: ${logPath})`);
      const file = readOutputsFile(outputsFile);
      s.rawOutputs = file[stackName];
      if (!s.rawOutputs) throw new Error(`${outputsFile} has no outputs for ${stackName}`);
      s.target = targetFromOutputs(stackName, s.rawOutputs, outputsFile);
      return `${progress.text().split(" · ")[0]}; ${describeTarget(s.target)}`;
    });

    const deployed = (): DeployedStack => ({
      stackName,
      target: need(s.target, "stack outputs"),
      outputs: need(s.rawOutputs, "stack outputs"),
      outputsFile,
      stackDir,
      logPath,
      awsEnv: s.awsEnv,
      childEnv: s.childEnv,
      clients: need(s.clients, "AWS clients"),
      credentials,
      caBundlePath: s.caBundlePath,
      sandbox: s.sandbox,
    });
    await o.extension?.afterDeploy(run, deployed());

    await run.step("ssm-online", async (ctx) => {
      const target = need(s.target, "stack outputs");
      s.ssmTarget = await readyJumpHost(
        target,
        {
          aws: pipelineClients(),
          signal: ctx.signal,
          timeoutMs: o.target === "aws" ? 600_000 : 90_000,
          pollMs: o.target === "aws" ? 3000 : 1000,
        },
        stepReporter(ctx),
      );
      return `${s.ssmTarget} is Online`;
    });

    await run.check("no-ingress", async (ctx) => {
      const target = need(s.target, "stack outputs");
      const clients = need(s.clients, "AWS clients");
      const snapshot = await collectIngressSnapshot({
        stackName,
        jumpHost: target.jumpHost,
        database: { engine: target.db.engine, identifier: target.db.identifier },
        ec2: clients.ec2,
        rds: clients.rds,
        ecs: clients.ecs,
      });
      const findings = evaluateIngress(snapshot);
      ctx.note(renderFindings(findings));
      const bad = findings.filter((f) => !f.ok);
      if (bad.length > 0)
        throw new Error(`${bad.length} ingress findings: ${bad.map((f) => f.message).join("; ")}`);
      return `${snapshot.securityGroups.length} security groups, jump host, database and gateways checked: no ingress`;
    });

    if (o.extension) {
      await o.extension.connect(run, deployed());
    } else {
      await connectInProcess();
    }
  } catch {
    // Recorded by the runner; cleanup follows.
  } finally {
    if (o.keep && !run.failed) {
      for (const name of ["destroy", "leftovers", "sandbox-stop"]) run.skip(name, "kept (--keep)");
    } else {
      await cleanup(run, s, { stackName, stackDir, outDir, outputsFile, logPath, target: o.target });
    }
    const destroyed = run.results.some((r) => r.name === "leftovers" && r.status === "passed");
    // A stopped sandbox takes every resource in it along: its state describes nothing any more.
    const sandboxGone = run.results.some((r) => r.name === "sandbox-stop" && r.status === "passed");
    const nothingDeployed = !s.deployAttempted;
    try {
      run.finish();
      if (!o.keep) rmSync(workDir, { recursive: true, force: true });
    } catch (e) {
      error = (e as Error).message;
      // Failed but torn down: keep only the log (and outputs) for the post-mortem.
      if (destroyed || sandboxGone || nothingDeployed) rmSync(outDir, { recursive: true, force: true });
    }
    // A run that failed before writing anything leaves no empty directory behind.
    if (existsSync(workDir) && readdirSync(workDir).length === 0)
      rmSync(workDir, { recursive: true, force: true });
    // Terraform's local state (cdktf puts it in the project root) is only needed while something exists.
    if (destroyed || sandboxGone || (nothingDeployed && !o.keep)) {
      for (const suffix of ["", ".backup"])
        rmSync(join(PROJECT_ROOT, `terraform.${stackName}.tfstate${suffix}`), { force: true });
    }
    if (!o.keep || error) s.clients?.destroy();
  }
  return {
    results: run.results,
    stackName,
    region: s.region,
    workDir,
    tls: s.tls,
    sandboxEnv: o.target === "sandbox" ? s.awsEnv : undefined,
    outputsFile: o.keep ? outputsFile : undefined,
    error,
  };
}

async function cleanup(
  run: FlowRun,
  s: State,
  p: {
    stackName: string;
    stackDir: string;
    outDir: string;
    outputsFile: string;
    logPath: string;
    target: FlowTarget;
  },
): Promise<void> {
  if (s.tunnel && !run.results.some((r) => r.name === "tunnel-close")) {
    await run.cleanup("tunnel-close", async () => closeTunnel(s));
  }
  if (!s.deployAttempted) {
    run.skip("destroy", s.synthesized ? "nothing was deployed" : "nothing was synthesized");
    run.skip("leftovers", "nothing was deployed");
  } else {
    await run.cleanup("destroy", async (ctx) => {
      // What Terraform has, before it forgets it: the leftover check probes each of these afterwards.
      const show = await runCapture(["terraform", "show", "-json"], p.stackDir, s.childEnv);
      if (show) s.deployed = resourcesFromShowJson(JSON.parse(show));
      let last = "";
      for (let attempt = 1; attempt <= 2; attempt++) {
        const progress = new ApplyProgress("destroyed", s.deployed.length || undefined);
        const r = await runLogged({
          cmd: [
            "node",
            CDKTF_BIN,
            "destroy",
            p.stackName,
            "--auto-approve",
            "--skip-synth",
            "--output",
            p.outDir,
            "--no-color",
          ],
          cwd: PROJECT_ROOT,
          env: s.childEnv,
          logPath: p.logPath,
          onLine: (line) => {
            if (progress.feed(line)) ctx.progress(progress.text());
          },
        });
        if (r.code === 0) return `${progress.text()}${attempt > 1 ? " (second attempt)" : ""}`;
        last = failureSummary(r.tail);
        ctx.progress(`destroy attempt ${attempt} failed: ${last}`);
      }
      throw new Error(
        `cdktf destroy failed twice: ${last}; state kept in ${p.stackDir}, retry with 'node ${CDKTF_BIN} destroy ${p.stackName} --skip-synth --output ${p.outDir}' (log: ${p.logPath})`,
      );
    });
    await run.cleanup("leftovers", async (ctx) => {
      const clients = need(s.clients, "AWS clients");
      const leftovers = await findLeftovers({ stackName: p.stackName, clients, deployed: s.deployed });
      if (leftovers.length > 0) {
        ctx.note(
          `LEFTOVERS of ${p.stackName}:\n${leftovers.map((l) => `  ${l.resource}: ${l.reason}`).join("\n")}`,
        );
        // An interrupted apply can create a resource Terraform never records (e.g. the database while
        // Terraform waits for it): destroy cannot know it, this check does.
        const where =
          p.target === "sandbox" ? " (stopping the sandbox discards them)" : "; delete them by hand";
        throw new Error(
          `${leftovers.length} resources of ${p.stackName} are left${where}: ${leftovers.map((l) => l.resource).join(", ")}`,
        );
      }
      return `${s.deployed.length} resources from state and the tag sweep: none left`;
    });
  }
  if (p.target === "sandbox") {
    if (s.sandbox) {
      const sandbox = s.sandbox;
      await run.cleanup("sandbox-stop", async () => {
        await sandbox.stop();
        return "moto, gateway and PostgreSQL stopped";
      });
    } else run.skip("sandbox-stop", "the sandbox never started");
  }
}

async function closeTunnel(s: State): Promise<string> {
  const tunnel = need(s.tunnel, "the tunnel");
  await tunnel.close();
  const reason = await tunnel.closed;
  s.tunnel = undefined;
  const gateway = s.sandbox?.gateway;
  if (gateway) {
    const deadline = Date.now() + 3000;
    while (gateway.activeSessions().includes(tunnel.sessionId)) {
      if (Date.now() > deadline)
        throw new Error(`session ${tunnel.sessionId} is still active at the gateway`);
      await Bun.sleep(50);
    }
  }
  const bytes = s.tunnelEvents.reduce(
    (sum, e) => (e.type === "connection-closed" ? sum + e.bytesIn + e.bytesOut : sum),
    0,
  );
  return `closed (${reason.kind}); ${s.tunnelEvents.filter((e) => e.type === "connection-opened").length} connections, ${(bytes / 1048576).toFixed(1)} MiB carried`;
}

/** The pipeline's step reports, shown as progress of the flow step that runs it. */
function stepReporter(ctx: StepContext): PipelineReporter {
  return {
    step: (_name, label) => ({
      progress: (detail) => ctx.progress(`${label}: ${detail}`),
      done: () => {},
      fail: () => {},
    }),
    event: () => {},
    debug: () => {},
  };
}

/**
 * Environment for cdktf/terraform children: the user's (user-environment.ts). For the sandbox every inherited AWS_* variable is dropped
 * first, so a developer's real profile can never leak into a sandbox deploy (or the reverse).
 */
export function childEnvironment(
  target: FlowTarget,
  awsEnv: Readonly<Record<string, string>>,
  overrides: Readonly<Record<string, string>>,
  configPath: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(userEnvironment())) {
    if (target === "sandbox" && k.startsWith("AWS_")) continue;
    env[k] = v;
  }
  if (target === "sandbox") env.AWS_EC2_METADATA_DISABLED = "true";
  return {
    ...env,
    ...awsEnv,
    ...terraformEnv(target === "aws" ? { providerMirror: null } : {}),
    ...overrides,
    DBTUNNEL_CONFIG: configPath,
    // cdktf would otherwise try to phone home and prompt; neither belongs in a test run.
    CHECKPOINT_DISABLE: "1",
    CDKTF_DISABLE_PLUGIN_CACHE_ENV: "1",
    DISABLE_VERSION_CHECK: "1",
    CI: env.CI ?? "1",
  };
}

async function runCapture(
  cmd: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<string | undefined> {
  if (!existsSync(cwd)) return undefined;
  const proc = Bun.spawn({ cmd, cwd, env, stdout: "pipe", stderr: "ignore" });
  const [text, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return code === 0 && text.trim() ? text : undefined;
}

function describeTarget(t: StackTarget): string {
  const host =
    t.jumpHost.kind === "ec2" ? t.jumpHost.instanceId : `${t.jumpHost.cluster}/${t.jumpHost.service}`;
  return `jump host ${host}, database ${t.db.endpoint}:${t.db.port}`;
}

function need<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null || value === "")
    throw new Error(`${what} is not available (an earlier step did not provide it)`);
  return value;
}
