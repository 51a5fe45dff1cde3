"""Scale-out of sending: ``python -m benchmarks.scale_out [--invoices 1000]``.

Runs ``benchmarks.sending`` (collect → validate → submitted → delivered, over 10 environments, against the
simulators, on PostgreSQL + Redis) once per worker layout: one worker with 1, 2 and 4 processes, and two worker
nodes (separate ``celery worker -n`` processes sharing the queues) of 2 processes each. Every run must deliver each
invoice exactly once (eConnect's count per invoice); the table gives the throughput of each. Exit status 1 when a
run fails that.

On one machine the layouts share its cores with PostgreSQL, Redis and the simulators: the table shows how
throughput follows processes up to the cores there are, which is what the README's sizing uses.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

LAYOUTS = ((1, 1), (1, 2), (1, 4), (2, 2))  # (nodes, processes per node)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_out", description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--environments", type=int, default=10)
    args = parser.parse_args(argv)
    rows, problems = [], []
    with tempfile.TemporaryDirectory() as folder:
        for nodes, concurrency in LAYOUTS:
            summary_path = Path(folder) / f"{nodes}x{concurrency}.json"
            print(f"Sending {args.invoices} invoices with {nodes} worker node(s) × {concurrency} processes ...",
                  flush=True)  # fmt: skip
            run = subprocess.run(
                [sys.executable, "-m", "benchmarks.sending", "--invoices", str(args.invoices), "--environments",
                 str(args.environments), "--nodes", str(nodes), "--concurrency", str(concurrency),
                 "--summary-json", str(summary_path), "--idle-polls", "0"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if run.returncode != 0 or not summary_path.exists():
                problems.append(f"{nodes}×{concurrency}: the sending benchmark failed:\n{run.stderr[-2000:]}")
                continue
            summary = json.loads(summary_path.read_text())
            if not summary["sent_once"] or summary["delivered"] != args.invoices:
                problems.append(f"{nodes}×{concurrency}: not every invoice delivered exactly once")
            rows.append(summary)
    print()
    print(f"Scale-out of sending: {args.invoices} invoices over {args.environments} environments, PostgreSQL + Redis")
    print(f"  {'worker nodes × processes':28}{'to submitted/s':>16}{'to delivered/s':>16}{'task ms/inv':>13}"
          f"{'exactly once':>14}")  # fmt: skip
    for row in rows:
        n, layout = row["invoices"], f"{row['nodes']} × {row['concurrency']}"
        print(f"  {layout:28}{n / row['to_submitted_seconds']:16.1f}"
              f"{n / row['to_delivered_seconds']:16.1f}{row['task_ms_per_invoice']:13.1f}"
              f"{'yes' if row['sent_once'] else 'NO':>14}")  # fmt: skip
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
