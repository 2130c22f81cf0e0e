/**
 * The hidden command a standalone dbtunnel executable (which has no sandbox/daemon.ts file to hand to Bun)
 * runs its own sandbox daemon with: `<executable> __sandbox-daemon --state-dir <dir>`. sandbox/commands.ts
 * starts it and cli/main.ts recognises it; defined here so the entry point loads no sandbox code for it.
 */
export const DAEMON_SUBCOMMAND = "__sandbox-daemon";
