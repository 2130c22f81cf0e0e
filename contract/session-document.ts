/**
 * The shape of dbtunnel's pinned Session document (type `Port`): `host` and `portNumber` are parameters
 * whose default is the database endpoint and port and whose `allowedPattern` admits only those values.
 * One definition for the stack (values are Terraform expressions) and the sandbox fixtures (literal
 * values); the stack's rule DBT-IAM-4 checks documents against the same rules.
 */

/** Local ports the client may name (the agent does not listen on it; informational). */
export const LOCAL_PORT_PATTERN =
  "^([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$";

/**
 * A literal host name as a pattern fragment: dots as `[.]` (no backslashes, which would need escaping
 * once for JSON and once more inside Terraform templates).
 */
export function hostPatternFragment(host: string): string {
  return host.replaceAll(".", "[.]");
}

export interface PinnedPortDocumentValues {
  readonly description: string;
  /** The endpoint sessions reach by default. */
  readonly defaultHost: string;
  /** `A|B` alternatives, each a host with dots as `[.]` (or an expression that yields that). */
  readonly hostAlternatives: string;
  /** The database port as a string (digits, or an expression that yields them). */
  readonly port: string;
}

export function pinnedPortDocument(values: PinnedPortDocumentValues): Record<string, unknown> {
  return {
    schemaVersion: "1.0",
    description: values.description,
    sessionType: "Port",
    parameters: {
      host: {
        type: "String",
        description: "The database endpoint (the only host this document reaches).",
        default: values.defaultHost,
        allowedPattern: `^(${values.hostAlternatives})$`,
      },
      portNumber: {
        type: "String",
        description: "The database port (the only port this document reaches).",
        default: values.port,
        allowedPattern: `^${values.port}$`,
      },
      localPortNumber: {
        type: "String",
        description: "Local port the client listens on (the agent does not use it).",
        default: "0",
        allowedPattern: LOCAL_PORT_PATTERN,
      },
    },
    properties: {
      type: "LocalPortForwarding",
      host: "{{ host }}",
      portNumber: "{{ portNumber }}",
      localPortNumber: "{{ localPortNumber }}",
    },
  };
}
