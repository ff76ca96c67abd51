#!/usr/bin/env python3
"""onterminal.py: run a command on a pseudo-terminal and answer its prompts, as a person would.

usage: onterminal.py TIMEOUT PROMPT_REGEX ANSWER [PROMPT_REGEX ANSWER]... -- COMMAND [ARG]...
Waits for each prompt (on the terminal) before typing its answer and Enter.
The command's stdout and stderr go to a file, not the terminal (a pty may drop
what a process writes just before it exits); this prints what the terminal
showed and then that file, and exits with the command's exit code (125 if a
prompt never came)."""
import os, pty, re, select, sys, tempfile, time


def main():
    timeout = float(sys.argv[1])
    sep = sys.argv.index("--")
    pairs = sys.argv[2:sep]
    cmd = sys.argv[sep + 1:]
    out = tempfile.TemporaryFile()
    pid, fd = pty.fork()
    if pid == 0:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        os.execvp(cmd[0], cmd)
    seen = b""
    deadline = time.monotonic() + timeout
    for i in range(0, len(pairs), 2):
        want = re.compile(pairs[i].encode())
        while not want.search(seen):
            left = deadline - time.monotonic()
            r, _, _ = select.select([fd], [], [], max(left, 0))
            if not r:
                sys.stdout.write(seen.decode(errors="replace"))
                os.kill(pid, 9)
                sys.exit(125)
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                sys.stdout.write(seen.decode(errors="replace"))
                sys.exit(125)
            seen += data
        seen = b""
        os.write(fd, pairs[i + 1].encode() + b"\n")
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        seen += data
    _, status = os.waitpid(pid, 0)
    out.seek(0)
    sys.stdout.write(seen.decode(errors="replace") + out.read().decode(errors="replace"))
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
