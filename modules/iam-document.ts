/**
 * IAM policy documents as plain objects, serialised with JSON.stringify (not Fn.jsonencode) so the
 * synthesized Terraform JSON carries readable policies that the policy checks and public scanners can
 * parse. Tokens inside strings survive JSON.stringify and resolve to Terraform interpolations.
 */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Principal?: Readonly<Record<string, string | readonly string[]>> | "*";
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export function policyDocument(statements: readonly PolicyStatement[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** Trust policy letting one AWS service assume a role. */
export function serviceTrustPolicy(service: string): string {
  return policyDocument([{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }]);
}

/**
 * The four ssmmessages channel actions the SSM agent (on EC2, or injected by ECS Exec) opens sessions with.
 * IAM gives them no resource type, so "*" is the only possible resource.
 */
export function sessionChannelsStatement(sid: string): PolicyStatement {
  return {
    Sid: sid,
    Effect: "Allow",
    Action: [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ],
    Resource: "*",
  };
}
