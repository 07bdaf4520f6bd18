"""`make bench`: every benchmark, one table on stdout, the same figures as JSON under `.local/bench/`.

`python -m tests.bench` runs each at full size (bounded: each stops by itself, the whole
run within 20 minutes); `--quick` (`make bench QUICK=1`) at sizes that take seconds, so
the suite can run them once and the benchmarks never rot. `--only NAME` runs one.
Exit 1 if a benchmark failed to run; figures short of their goals are shown in red (and
`met: false` in the JSON) without failing the run: they are measurements, not tests.
"""

from __future__ import annotations

import argparse
import time
import traceback
from collections.abc import Callable

from tests.bench import campaign_send, cdnow_refit, post_to_360, projector_throughput, read_360, rebuild_rate
from tests.bench.figures import Figure, show, write

BENCHES: dict[str, Callable[[bool], list[Figure]]] = {
    "read_360": read_360.run,
    "post_to_360": post_to_360.run,
    "projector": projector_throughput.run,
    "rebuild": rebuild_rate.run,
    "campaign": campaign_send.run,
    "cdnow_refit": cdnow_refit.run,
}


def main() -> None:
    """Run the benchmarks, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of every benchmark")
    parser.add_argument("--only", choices=sorted(BENCHES), action="append", help="run only these (repeatable)")
    args = parser.parse_args()
    figures: list[Figure] = []
    errors: dict[str, str] = {}
    for name in args.only or BENCHES:
        started = time.monotonic()
        print(f"bench {name} ...", flush=True)
        try:
            figures += BENCHES[name](args.quick)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            errors[name] = f"{type(exc).__name__}: {exc}"
        print(f"bench {name}: {time.monotonic() - started:.0f}s", flush=True)
    show(figures, errors, quick=args.quick)
    print(f"figures written to {write(figures, errors, quick=args.quick)}")
    raise SystemExit(1 if errors else 0)


if __name__ == "__main__":
    main()
