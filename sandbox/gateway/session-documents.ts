/**
 * The Session documents StartSession can run, and how their parameters become the Port session's
 * properties, as Session Manager does it: every parameter the caller passes must be declared by the
 * document and match its `allowedPattern`; a missing one takes its `default`; `{{ name }}` in the
 * document's `properties` is replaced by the value ("Session document schema", user guide).
 *
 * AWS-owned documents are built in (their definitions as `aws ssm get-document` shows them); customer
 * documents come from moto (created by the stack through Terraform). Only `sessionType: Port` documents
 * can run here: the sandbox forwards ports, it has no shell.
 */
import { GetDocumentCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { PortProperties } from "../agent/handshake.ts";
import { ApiError } from "./aws-errors.ts";
import type { SandboxCredentials } from "./types.ts";

export interface DocumentParameter {
  readonly type?: string;
  readonly default?: string;
  readonly allowedPattern?: string;
}

export interface PortDocument {
  readonly name: string;
  /** AWS-owned documents have an empty account field in their ARN. */
  readonly awsOwned: boolean;
  readonly parameters: Readonly<Record<string, DocumentParameter>>;
  readonly properties: Readonly<Record<string, string>>;
}

const PORT = "^([1-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$";
const LOCAL_PORT =
  "^([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$";
/** The remote-host document's host pattern, as AWS reports it in InvalidParameters errors. */
const REMOTE_HOST = "^[^,$^&\\(\\)!;'\"<>\\`{}\\[\\]\\|#=]{3,}$";

export const AWS_PORT_DOCUMENTS: Readonly<Record<string, PortDocument>> = {
  "AWS-StartPortForwardingSessionToRemoteHost": {
    name: "AWS-StartPortForwardingSessionToRemoteHost",
    awsOwned: true,
    parameters: {
      host: { type: "String", default: "", allowedPattern: REMOTE_HOST },
      portNumber: { type: "String", default: "80", allowedPattern: PORT },
      localPortNumber: { type: "String", default: "0", allowedPattern: LOCAL_PORT },
    },
    properties: {
      type: "LocalPortForwarding",
      host: "{{ host }}",
      portNumber: "{{ portNumber }}",
      localPortNumber: "{{ localPortNumber }}",
    },
  },
  "AWS-StartPortForwardingSession": {
    name: "AWS-StartPortForwardingSession",
    awsOwned: true,
    parameters: {
      portNumber: { type: "String", default: "80", allowedPattern: PORT },
      localPortNumber: { type: "String", default: "0", allowedPattern: LOCAL_PORT },
    },
    properties: {
      type: "LocalPortForwarding",
      portNumber: "{{ portNumber }}",
      localPortNumber: "{{ localPortNumber }}",
    },
  },
};

/** The IAM resource of a document (ssm:StartSession is evaluated against it). */
export function documentArn(doc: PortDocument, region: string, accountId: string): string {
  return `arn:aws:ssm:${region}:${doc.awsOwned ? "" : accountId}:document/${doc.name}`;
}

export class MotoDocuments {
  private readonly ssm: SSMClient;

  constructor(motoUrl: string, region: string, admin: SandboxCredentials) {
    this.ssm = new SSMClient({ endpoint: motoUrl, region, credentials: admin, maxAttempts: 1 });
  }

  /** The named Port document; InvalidDocument when it does not exist or is no Port session document. */
  async find(name: string): Promise<PortDocument> {
    const builtIn = AWS_PORT_DOCUMENTS[name];
    if (builtIn) return builtIn;
    if (name.startsWith("AWS-") || !/^[a-zA-Z0-9_.-]{3,128}$/.test(name)) {
      throw new ApiError("InvalidDocument", `Document with name ${name} does not exist.`);
    }
    let content: unknown;
    let type: string | undefined;
    try {
      const doc = await this.ssm.send(new GetDocumentCommand({ Name: name }));
      type = doc.DocumentType;
      content = JSON.parse(doc.Content ?? "");
    } catch (error) {
      if (error instanceof SyntaxError) content = undefined;
      else if ((error as { name?: string }).name === "InvalidDocument") {
        throw new ApiError("InvalidDocument", `Document with name ${name} does not exist.`);
      } else throw error;
    }
    return parsePortDocument(name, type, content);
  }

  close(): void {
    this.ssm.destroy();
  }
}

function parsePortDocument(name: string, type: string | undefined, content: unknown): PortDocument {
  const notPort = new ApiError(
    "InvalidDocument",
    `Document ${name} is not a Session document with sessionType Port (the sandbox only forwards ports).`,
  );
  if (type !== "Session" || typeof content !== "object" || content === null) throw notPort;
  const c = content as Record<string, unknown>;
  if (c.sessionType !== "Port" || typeof c.properties !== "object" || c.properties === null) throw notPort;
  const properties: Record<string, string> = {};
  for (const [key, value] of Object.entries(c.properties as Record<string, unknown>)) {
    if (typeof value === "string") properties[key] = value;
  }
  if (properties.type !== "LocalPortForwarding") throw notPort;
  const parameters: Record<string, DocumentParameter> = {};
  const rawParameters = typeof c.parameters === "object" && c.parameters !== null ? c.parameters : {};
  for (const [key, value] of Object.entries(rawParameters as Record<string, unknown>)) {
    const p = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    parameters[key] = {
      ...(typeof p.type === "string" ? { type: p.type } : {}),
      ...(typeof p.default === "string" ? { default: p.default } : {}),
      ...(typeof p.allowedPattern === "string" ? { allowedPattern: p.allowedPattern } : {}),
    };
  }
  return { name, awsOwned: false, parameters, properties };
}

/**
 * Checks the request's parameters against the document and renders its properties. Errors as Session
 * Manager answers them: `InvalidParameters` with `Parameter "host" has value "x" not matching "<pattern>".`
 */
export function renderPortProperties(doc: PortDocument, rawParameters: unknown): PortProperties {
  if (typeof rawParameters !== "object" || rawParameters === null || Array.isArray(rawParameters)) {
    throw new ApiError(
      "ValidationException",
      "Parameters must be a map of parameter name to a list of strings.",
    );
  }
  const given = rawParameters as Record<string, unknown>;
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    const declared = doc.parameters[name];
    if (!declared) {
      throw new ApiError("InvalidParameters", `Parameter "${name}" is not defined in document ${doc.name}.`);
    }
    if (!Array.isArray(value) || value.length !== 1 || typeof value[0] !== "string") {
      throw new ApiError(
        "InvalidParameters",
        `Parameter "${name}" must be a list with exactly one string value.`,
      );
    }
    values[name] = value[0];
  }
  for (const [name, declared] of Object.entries(doc.parameters)) {
    const value = values[name] ?? declared.default;
    if (value === undefined) {
      throw new ApiError("InvalidParameters", `Parameter "${name}" is required by document ${doc.name}.`);
    }
    // A default is checked too: AWS refuses to create a document whose default breaks its pattern, and
    // the remote-host document's empty default host must fail its {3,} pattern when host is omitted.
    if (declared.allowedPattern !== undefined && !safeRegex(declared.allowedPattern).test(value)) {
      throw new ApiError(
        "InvalidParameters",
        `Parameter "${name}" has value "${value}" not matching "${declared.allowedPattern}".`,
      );
    }
    values[name] = value;
  }
  const rendered: Record<string, string> = {};
  for (const [key, template] of Object.entries(doc.properties)) {
    rendered[key] = template.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_w, p: string) => values[p] ?? "");
  }
  const { host, portNumber, localPortNumber } = rendered;
  if (!portNumber) throw new ApiError("InvalidDocument", `Document ${doc.name} sets no portNumber.`);
  return {
    type: "LocalPortForwarding",
    portNumber,
    localPortNumber: localPortNumber || "0",
    ...(host ? { host } : {}),
  };
}

/** A pattern that does not compile admits nothing (fail closed). */
function safeRegex(pattern: string): RegExp {
  try {
    return new RegExp(pattern, "u");
  } catch {
    try {
      return new RegExp(pattern);
    } catch {
      return /(?!)/;
    }
  }
}
