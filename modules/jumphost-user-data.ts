/**
 * User data for the EC2 jump host: a systemd timer that stops the instance after `idleMinutes` without a
 * Session Manager session. Port-forwarding sessions run as `ssm-session-worker` processes; when none has
 * been seen for the idle period, `shutdown -h now` stops the instance (its shutdown behaviour is "stop",
 * so it is not terminated) and the CLI starts it again on demand. The script carries no secrets and uses
 * no "${" or "%{" sequences, which Terraform would treat as template syntax.
 */
export function idleStopUserData(idleMinutes: number): string {
  return `#!/bin/bash
# dbtunnel jump host: stop after ${idleMinutes} idle minutes without a Session Manager session.
set -euo pipefail
cat > /usr/local/sbin/dbtunnel-idle-stop <<'SCRIPT'
#!/bin/bash
IDLE_MINUTES=${idleMinutes}
STAMP=/run/dbtunnel-last-session
if pgrep -f ssm-session-worker >/dev/null; then
  touch "$STAMP"
  exit 0
fi
# /run is a tmpfs: every boot starts a fresh idle period, so a just-started host waits for its session.
[ -f "$STAMP" ] || touch "$STAMP"
idle=$(( ( $(date +%s) - $(stat -c %Y "$STAMP") ) / 60 ))
if [ "$idle" -ge "$IDLE_MINUTES" ]; then
  logger -t dbtunnel-idle-stop "no Session Manager session for $idle minutes: stopping"
  shutdown -h now
fi
SCRIPT
chmod 0755 /usr/local/sbin/dbtunnel-idle-stop
cat > /etc/systemd/system/dbtunnel-idle-stop.service <<'UNIT'
[Unit]
Description=dbtunnel: stop the jump host when no Session Manager session is open
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/dbtunnel-idle-stop
UNIT
cat > /etc/systemd/system/dbtunnel-idle-stop.timer <<'UNIT'
[Unit]
Description=dbtunnel: check for Session Manager sessions every minute
[Timer]
OnBootSec=1min
OnUnitActiveSec=1min
[Install]
WantedBy=timers.target
UNIT
systemctl daemon-reload
systemctl enable --now dbtunnel-idle-stop.timer
`;
}
