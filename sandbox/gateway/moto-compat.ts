/**
 * Corrections for two moto 5.2.1 deviations that would otherwise make Terraform show a diff on every plan
 * of a freshly applied stack (design.md, sandbox facts). Each one restores what AWS does; neither changes
 * what the stack asks for, so no security property of the stack is weakened for the sandbox.
 *
 * 1. EC2 ModifyInstanceAttribute in the `<Attribute>.Value=x` form (what the AWS provider sends for
 *    `instance_initiated_shutdown_behavior = "stop"`) is not recognised by moto, which falls through to
 *    its security-group handler and strips every group from the instance. Rewritten to the equivalent
 *    `Attribute=<name>&Value=x` form that moto does understand.
 * 2. RDS DescribeDBParameters answers without `<Source>`, so the provider cannot tell which parameters
 *    the user set and plans `+ parameter rds.force_ssl` forever. moto reports only parameters that were
 *    set through ModifyDBParameterGroup (it has no engine defaults), so they are all `user` parameters.
 */

/** Attributes whose `X.Value` form moto misreads, mapped to the `Attribute=` name it understands. */
const EC2_VALUE_ATTRIBUTES: Readonly<Record<string, string>> = {
  InstanceInitiatedShutdownBehavior: "instanceInitiatedShutdownBehavior",
  DisableApiTermination: "disableApiTermination",
};

/** Returns the request body to send to moto (rewritten where needed), or the original body. */
export function rewriteRequestBody(service: string, body: ArrayBuffer | undefined): ArrayBuffer | undefined {
  if (service !== "ec2" || !body || body.byteLength === 0) return body;
  const form = new URLSearchParams(new TextDecoder().decode(body));
  if (form.get("Action") !== "ModifyInstanceAttribute" || form.has("Attribute")) return body;
  for (const [field, attribute] of Object.entries(EC2_VALUE_ATTRIBUTES)) {
    const value = form.get(`${field}.Value`);
    if (value === null) continue;
    form.delete(`${field}.Value`);
    form.set("Attribute", attribute);
    form.set("Value", value);
    return new TextEncoder().encode(form.toString()).buffer as ArrayBuffer;
  }
  return body;
}

/** True when moto's answer to this request needs `rewriteResponseText`. */
export function needsResponseRewrite(service: string, body: ArrayBuffer | undefined): boolean {
  if (service !== "rds" || !body || body.byteLength === 0) return false;
  return new URLSearchParams(new TextDecoder().decode(body)).get("Action") === "DescribeDBParameters";
}

/** Adds `<Source>user</Source>` to every `<Parameter>` of a DescribeDBParameters answer that lacks one. */
export function rewriteResponseText(xml: string): string {
  return xml.replace(/<Parameter>([\s\S]*?)<\/Parameter>/g, (whole, inner: string) =>
    inner.includes("<Source>") ? whole : `<Parameter>${inner}<Source>user</Source></Parameter>`,
  );
}
