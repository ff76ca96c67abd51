#!/usr/bin/env python3
"""onterminal.py: run a command on a pseudo-terminal and answer its prompts, as a person would.

usage: onterminal.py TIMEOUT PROMPT_REGEX ANSWER [PROMPT_REGEX ANSWER]... -- COMMAND [ARG]...
Waits for each prompt (on the terminal) before typing its answer and Enter.
Prints everything the terminal showed, exits with the command's exit code
(125 if a prompt never came)."""
import os, pty, re, select, sys, time


def main():
    timeout = float(sys.argv[1])
    sep = sys.argv.index("--")
    pairs = sys.argv[2:sep]
    cmd = sys.argv[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
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
    sys.stdout.write(seen.decode(errors="replace"))
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
