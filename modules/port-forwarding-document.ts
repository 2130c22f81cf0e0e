import { SsmDocument } from "@cdktf/provider-aws/lib/ssm-document";
import { Fn, TerraformLocal, Token } from "cdktf";
import { Construct } from "constructs";
import { sessionDocumentNameFor } from "../contract/outputs.ts";
import { pinnedPortDocument } from "../contract/session-document.ts";
import { InvalidPropsError, isLiteral } from "./props-error.ts";

export interface PortForwardingDocumentProps {
  readonly namePrefix: string;
  /**
   * The only hosts a session may reach: the database endpoint first (the default), then for a cluster
   * its reader endpoint. Host names only (tokens are fine).
   */
  readonly hosts: readonly string[];
  /** The database port (token or literal). */
  readonly port: number;
}

/**
 * A per-stack Session document of type `Port` that can reach the database and nothing else
 * (aws-facts.md "IAM for engineers"; user guide "Session document schema"): `host` and `portNumber`
 * are parameters whose default is the database endpoint and port and whose `allowedPattern` admits
 * exactly those values (writer and reader endpoint for a cluster). The AWS-owned
 * `AWS-StartPortForwardingSessionToRemoteHost` takes any host and port, including the jump host's own
 * loopback and, on older agents, the instance metadata service; no IAM condition key can restrict its
 * parameters, so the engineer policy names this document instead.
 *
 * The pattern escapes dots as `[.]` (no backslashes: the content is JSON with Terraform interpolations,
 * and a backslash would need escaping at two levels). Built with JSON.stringify so scanners and the
 * stack's own rules can read it (DBT-IAM-4).
 */
export class PortForwardingDocument extends Construct {
  readonly document: SsmDocument;
  /** Document name (what StartSession's DocumentName takes). */
  readonly name: string;
  readonly arn: string;

  constructor(scope: Construct, id: string, props: PortForwardingDocumentProps) {
    super(scope, id);
    if (props.hosts.length === 0) {
      throw new InvalidPropsError(
        "PortForwardingDocument",
        "hosts",
        "is empty",
        "pass the database endpoint (and a cluster's reader endpoint)",
      );
    }
    for (const host of props.hosts) {
      if (isLiteral(host) && !/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(host)) {
        throw new InvalidPropsError(
          "PortForwardingDocument",
          "hosts",
          `contains "${host}"`,
          "pass DNS host names only (no port, scheme or whitespace)",
        );
      }
    }
    const hostPattern = new TerraformLocal(
      this,
      "host-pattern",
      Fn.join(
        "|",
        props.hosts.map((host) => Fn.replace(host, ".", "[.]")),
      ),
    );
    const content = pinnedPortDocument({
      description: `dbtunnel: port forwarding from the jump host to the ${props.namePrefix} database only`,
      defaultHost: props.hosts[0] as string,
      hostAlternatives: hostPattern.asString,
      port: Token.asString(props.port),
    });
    this.document = new SsmDocument(this, "document", {
      name: sessionDocumentNameFor(props.namePrefix),
      documentType: "Session",
      documentFormat: "JSON",
      content: JSON.stringify(content),
    });
    this.name = this.document.name;
    this.arn = this.document.arn;
  }
}
