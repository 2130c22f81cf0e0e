import { App } from "cdktf";
import type { DbtunnelConfig } from "./config.ts";
import { SecureDbAccessStack } from "./secure-db-access-stack.ts";

export interface BuildAppOptions {
  /** Where synth writes. @default cdktf's default (CDKTF_OUTDIR or ./cdktf.out) */
  readonly outdir?: string;
  /** Run the security policy at synth. @default true */
  readonly enforcePolicy?: boolean;
}

/** The CDKTF app: one SecureDbAccessStack per configured environment. */
export function buildApp(config: DbtunnelConfig, options: BuildAppOptions = {}): App {
  const app = new App(options.outdir ? { outdir: options.outdir } : {});
  for (const stack of config.stacks) {
    new SecureDbAccessStack(app, stack.name, {
      config: stack,
      suppressions: config.policy.suppressions,
      enforcePolicy: options.enforcePolicy,
    });
  }
  return app;
}
