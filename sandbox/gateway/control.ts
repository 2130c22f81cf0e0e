/**
 * Control endpoint for tests that drive the sandbox from another process (the CLI tests run the CLI as
 * a child): `POST /_dbtunnel/faults` `{ "sessionId"?: string, "plan": FaultPlan }` and
 * `GET /_dbtunnel/sessions` → `{ "sessions": SessionStats[] }`. Not an AWS path, so no collision.
 */
import type { FaultPlan, SessionStats } from "./types.ts";

export interface ControlContext {
  readonly setFaults: (plan: FaultPlan, sessionId?: string) => void;
  readonly sessionStats: () => SessionStats[];
  readonly hasSession: (id: string) => boolean;
}

const NUMBER_FIELDS = [
  "dropRate",
  "duplicateRate",
  "reorderRate",
  "delayMs",
  "dropAckRate",
  "corruptDigestRate",
  "closeWebSocketAfter",
  "seed",
];
const BOOLEAN_FIELDS = ["refuseDial", "resumeWithoutToken", "unpaced"];

function json(value: unknown, status = 200): Response {
  return Response.json(value, { status });
}

/** Validates a FaultPlan from JSON; returns an error line for the caller or the plan. */
export function parseFaultPlan(value: unknown): FaultPlan | string {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return "plan must be a JSON object";
  for (const [key, field] of Object.entries(value)) {
    if (NUMBER_FIELDS.includes(key)) {
      if (typeof field !== "number" || !Number.isFinite(field) || field < 0)
        return `plan.${key} must be a non-negative number`;
      if (key.endsWith("Rate") && field > 1) return `plan.${key} must be between 0 and 1`;
    } else if (BOOLEAN_FIELDS.includes(key)) {
      if (typeof field !== "boolean") return `plan.${key} must be true or false`;
    } else if (key === "agentVersion") {
      if (typeof field !== "string" || !/^\d+(\.\d+){3}$/.test(field))
        return "plan.agentVersion must look like 3.3.987.0";
    } else {
      return `plan.${key} is not a fault (known: ${[...NUMBER_FIELDS, ...BOOLEAN_FIELDS, "agentVersion"].join(", ")})`;
    }
  }
  return value as FaultPlan;
}

export async function handleControl(req: Request, url: URL, ctx: ControlContext): Promise<Response> {
  if (url.pathname === "/_dbtunnel/sessions" && req.method === "GET") {
    return json({ sessions: ctx.sessionStats() });
  }
  if (url.pathname === "/_dbtunnel/faults" && req.method === "POST") {
    let body: unknown;
    try {
      body = await req.json();
    } catch {
      return json({ error: 'body must be JSON: {"sessionId"?: string, "plan": FaultPlan}' }, 400);
    }
    const { sessionId, plan } = (body ?? {}) as { sessionId?: unknown; plan?: unknown };
    const parsed = parseFaultPlan(plan);
    if (typeof parsed === "string") return json({ error: parsed }, 400);
    if (sessionId !== undefined && (typeof sessionId !== "string" || !ctx.hasSession(sessionId))) {
      return json({ error: `no session ${String(sessionId)}: GET /_dbtunnel/sessions lists them` }, 404);
    }
    ctx.setFaults(parsed, sessionId as string | undefined);
    return json({ ok: true });
  }
  return json(
    {
      error: `unknown control call ${req.method} ${url.pathname} (use POST /_dbtunnel/faults or GET /_dbtunnel/sessions)`,
    },
    404,
  );
}
