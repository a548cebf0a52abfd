#!/usr/bin/env python3
"""The kbuild workload: one process per small object, as kbuild runs it.

    bench/small.py [--runs N] [--oracle GENDWARFKSYMS] KSYMRULES FLOOR CASE...

Each CASE is a directory holding `input.o` and `symbols` (the golden
layout). Every object is run RUNS times (default 5) by each tool in turn
(ksymrules, the floor, and gendwarfksyms when given), the tools alternating
so that the machine's drift is shared, each round in the next of their
orders so that each follows each other about as often; the fastest wall time and the
smallest CPU time (user + system, from wait4's rusage: microseconds, not
time(1)'s hundredths) of each are printed, then their sums over all
objects, and the mean number of page faults per run (the fewest of each
object's runs). The command is kbuild's: `TOOL OBJECT < SYMBOLS` (no -T).

Prints figures only; it asserts nothing.
"""

import itertools
import os
import subprocess
import sys
import time


def run_once(argv, stdin_path):
    """Wall seconds, CPU seconds and page faults of one run, output
    discarded."""
    with open(stdin_path, "rb") as stdin, open(os.devnull, "wb") as null:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=stdin, stdout=null, stderr=null)
        _, _, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_minflt + usage.ru_majflt


def main():
    args = sys.argv[1:]
    runs, oracle = 5, None
    while args and args[0].startswith("--"):
        if args[0] == "--runs":
            runs, args = int(args[1]), args[2:]
        elif args[0] == "--oracle":
            oracle, args = args[1], args[2:]
        else:
            sys.exit(f"bench/small.py: unknown option {args[0]}")
    if len(args) < 3:
        sys.exit(__doc__)
    ksymrules, floor, cases = args[0], args[1], args[2:]

    tools = [("ksymrules", ksymrules), ("floor", floor)]
    if oracle:
        tools.append(("gendwarfksyms", oracle))
    orders = list(itertools.permutations(tools))
    rows = []
    for case in cases:
        obj, syms = os.path.join(case, "input.o"), os.path.join(case, "symbols")
        if not (os.path.isfile(obj) and os.path.isfile(syms)):
            continue
        best = {name: [float("inf"), float("inf"), float("inf")] for name, _ in tools}
        for r in range(runs):
            # Each round runs the tools in the next of their orders: a run
            # is slower right after a tool that filled the caches with its
            # own code and data (gendwarfksyms and its shared libraries), so
            # each tool follows each other about as often.
            for name, tool in orders[r % len(orders)]:
                wall, cpu, faults = run_once([tool, obj], syms)
                best[name][0] = min(best[name][0], wall)
                best[name][1] = min(best[name][1], cpu)
                best[name][2] = min(best[name][2], faults)
        rows.append((case, os.path.getsize(obj), best))

    names = [name for name, _ in tools]
    head = f"{'object':<40} {'KB':>6}"
    for n in names:
        head += f" {n[:9] + '_ms':>12} {'cpu_ms':>7}"
    head += f" {'x_floor':>8}"
    if oracle:
        head += f" {'x_gdks':>7} {'cpu_x':>6}"
    print(head)
    total = {n: [0.0, 0.0] for n in names}
    faults = {n: 0 for n in names}
    slower = 0
    for case, size, best in rows:
        label = case.rstrip("/")
        label = label[-40:] if len(label) > 40 else label
        line = f"{label:<40} {size // 1024:>6}"
        for n in names:
            w, c, f = best[n]
            total[n][0] += w
            total[n][1] += c
            faults[n] += f
            line += f" {1000 * w:>12.2f} {1000 * c:>7.2f}"
        line += f" {best['ksymrules'][0] / best['floor'][0]:>8.2f}"
        if oracle:
            g = best["gendwarfksyms"]
            k = best["ksymrules"]
            slower += k[0] > g[0]
            line += f" {k[0] / g[0]:>7.2f} {k[1] / max(g[1], 1e-6):>6.2f}"
        print(line)
    line = f"{'sum over ' + str(len(rows)) + ' objects':<40} {'':>6}"
    for n in names:
        line += f" {1000 * total[n][0]:>12.1f} {1000 * total[n][1]:>7.1f}"
    line += f" {total['ksymrules'][0] / total['floor'][0]:>8.2f}"
    if oracle:
        g, k = total["gendwarfksyms"], total["ksymrules"]
        line += f" {k[0] / g[0]:>7.2f} {k[1] / max(g[1], 1e-6):>6.2f}"
    print(line)
    print(
        f"(fastest wall and smallest CPU of {runs} runs per object, tools alternating in every order;"
        " x_floor = ksymrules wall / floor wall"
        + (
            f"; x_gdks = ksymrules / gendwarfksyms wall, cpu_x the same for CPU;"
            f" ksymrules slower (wall) on {slower} of {len(rows)} objects)"
            if oracle
            else ")"
        )
    )
    # A page fault costs a few microseconds (more in a virtual machine): on
    # small objects, as much as the instructions.
    print(
        "(page faults per run, the fewest of the runs, mean over the objects: "
        + ", ".join(f"{n} {faults[n] / max(len(rows), 1):.0f}" for n in names)
        + ")"
    )
    if oracle:
        g, f = total["gendwarfksyms"], total["floor"]
        print(
            f"(gendwarfksyms / ksymrules, sum of wall: {g[0] / total['ksymrules'][0]:.2f}x;"
            f" gendwarfksyms / floor, the most any tool could reach: {g[0] / f[0]:.2f}x)"
        )


if __name__ == "__main__":
    main()
