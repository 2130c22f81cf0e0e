/** What `dbtunnel proxy` and `dbtunnel up` share: local auth and TLS set-up, starting a listener, waiting. */
import { configDir, LocalSecretError, loadOrCreateSecret, secretPath } from "../proxy/local-secret.ts";
import { type LocalCertificate, LocalTlsError, loadOrCreateLocalCertificate } from "../proxy/local-tls.ts";
import { ProxyListenError, type ProxyOptions, type RunningProxy, startProxy } from "../proxy/server.ts";
import type { LocalAuth } from "../proxy/types.ts";
import { CliError } from "./errors.ts";
import { Reporter } from "./ui.ts";

/** The local secret (created on first use), or no local authentication with `--no-local-auth`. */
export function localAuthFor(disabled: boolean, ui: Reporter): LocalAuth {
  if (disabled) {
    ui.warn(
      "Local authentication is off: every user of this machine can use your database identity through the proxy port.",
    );
    return { kind: "none" };
  }
  const path = secretPath();
  try {
    const { secret, created } = loadOrCreateSecret(path);
    if (created) ui.info(`Created your local secret ${path} (mode 0600): GUIs save it as the password.`);
    return { kind: "secret", secret };
  } catch (error) {
    if (error instanceof LocalSecretError) throw new CliError(error.message, { code: "LocalSecret" });
    throw error;
  }
}

export function localTlsFor(): LocalCertificate {
  try {
    return loadOrCreateLocalCertificate(configDir());
  } catch (error) {
    if (error instanceof LocalTlsError) throw new CliError(error.message, { code: "LocalTls" });
    throw error;
  }
}

export async function startProxyOrExplain(options: ProxyOptions): Promise<RunningProxy> {
  try {
    return await startProxy(options);
  } catch (error) {
    if (error instanceof ProxyListenError) throw new CliError(error.message, { code: error.code });
    throw error;
  }
}

/** Resolves on Ctrl-C / SIGTERM. */
export function waitForShutdown(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** A JSON reporter for the set-up phase that passes on only warnings and errors, so 'listening' comes first. */
export function setupReporter(ui: Reporter): Reporter {
  return new Reporter({
    json: true,
    verbose: ui.verbose,
    stdout: (line) => {
      if (/^\{"type":"(error|warning)"/.test(line)) process.stdout.write(line);
    },
  });
}
