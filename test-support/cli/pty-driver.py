"""Drives a command on a real pseudo-terminal for the CLI's interactive tests (Ctrl-C belongs to psql).

usage: python3 pty-driver.py -- COMMAND...   (the script is read as JSON steps from stdin:
[{"send": "text"}, {"expect": "text", "timeout": 10}, {"ctrl_c": true}, ...])
Prints the transcript; exits with the command's exit code, or 124 if an expectation timed out.
"""
import json, os, pty, select, signal, sys, time

steps = json.load(sys.stdin)
argv = sys.argv[sys.argv.index("--") + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)

buffer = b""
# Output before `cursor` has been matched already: each expectation must be met by NEW output, or a
# prompt printed earlier would satisfy it before the program has reacted to the last input.
cursor = 0

def read_until(text, timeout):
    global buffer, cursor
    deadline = time.time() + timeout
    needle = text.encode()
    while needle not in buffer[cursor:]:
        remaining = deadline - time.time()
        if remaining <= 0:
            return False
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return False
            if not chunk:
                return False
            buffer += chunk
    cursor = buffer.index(needle, cursor) + len(needle)
    return True

def stop_child():
    """SIGTERM first so dbtunnel can end its session and psql; SIGKILL only if it does not exit in time.
    A bare SIGKILL would leave the session open and fail every later test that counts sessions."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 10
    while time.time() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)

for step in steps:
    if "send" in step:
        os.write(fd, step["send"].encode())
    elif step.get("ctrl_c"):
        os.write(fd, b"\x03")
    elif "expect" in step:
        if not read_until(step["expect"], step.get("timeout", 30)):
            sys.stdout.write(buffer.decode(errors="replace"))
            sys.stdout.write(f"\n[pty-driver] timed out waiting for {step['expect']!r}\n")
            stop_child()
            sys.exit(124)

# Drain until the child exits.
while True:
    try:
        ready, _, _ = select.select([fd], [], [], 15)
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buffer += chunk
    except OSError:
        break
_, status = os.waitpid(pid, 0)
sys.stdout.write(buffer.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)
