# benchlib: what scripts/bench and scripts/bench-delta share: one timed run with GNU time's peak RSS,
# interleaved rounds with medians, warming inputs into the page cache.
import os, statistics, subprocess, sys, tempfile, time

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "1"))
PROG = "bench"   # the prefix of a failed command's message; each script sets its own name


def run(argv):
    """Run once; return (seconds, peak RSS in KiB).

    GNU time reports the peak RSS: a child forked from this Python process
    would count Python's own pages until it execs. Through `sh -c`, the peak
    is the largest of the shell and the commands it waited for."""
    with tempfile.NamedTemporaryFile() as rss_file:
        start = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file.name] + argv,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.monotonic() - start
        if p.returncode != 0:
            sys.exit(f"{PROG}: {' '.join(argv)} failed ({p.returncode}): {p.stderr.decode(errors='replace').strip()}")
        return elapsed, int(open(rss_file.name).read().split()[-1])


def warm(*paths):
    for p in paths:
        with open(p, "rb") as f:
            while f.read(1 << 20):
                pass


class Command:
    """One benchmarked command: its argv, what to do before each run, which inputs to warm."""

    def __init__(self, name, argv, inputs, before=None):
        self.name, self.argv, self.inputs, self.before = name, argv, inputs, before
        self.times, self.rss = [], 0

    def once(self):
        if self.before:
            self.before()
        # Start every run with no dirty pages from the last one (otherwise a
        # run pays for its predecessor's writeback) and its inputs in the page
        # cache: this VM's kernel reclaims idle cache between runs.
        os.sync()
        warm(*self.inputs)
        t, r = run(self.argv)
        self.times.append(t)
        self.rss = max(self.rss, r)

    @property
    def median(self):
        return statistics.median(self.times)


def interleaved(commands, runs=RUNS, warmup=WARMUP):
    """`warmup` untimed rounds, then `runs` rounds, each running every command once: a slow spell of
    this VM hits all of them alike. The first round writes its outputs into memory the kernel has not
    used lately, which on this VM took up to 5x longer: it measures the VM, not the command."""
    for _ in range(warmup):
        for c in commands:
            c.once()
    for c in commands:
        c.times, c.rss = [], 0
    for _ in range(runs):
        for c in commands:
            c.once()
    for c in commands:
        # Every run, not only the median: this VM's writes swing 2x and more between runs.
        each = " ".join(f"{t:.2f}" for t in c.times)
        print(f"  {c.name:<34} {c.median:8.3f} s   peak RSS {c.rss / 1024:7.1f} MiB   runs {each}")
