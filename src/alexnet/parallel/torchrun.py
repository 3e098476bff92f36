"""torchrun with the exit status of a stop: 143 after SIGTERM, 130 after Ctrl-C, no traceback.

    python -m alexnet.parallel.torchrun --standalone --nproc_per_node=2 -m alexnet train ...

takes torchrun's arguments and runs torchrun's own code: the same rendezvous, the same
processes, and a signal it receives is passed on to every rank's process group as before.
Only the end differs. Stock torchrun (torch 2.x) turns a signal it receives into a
`SignalException` and a rank's non-zero exit into a `ChildFailedError`, and prints either as
a traceback with exit status 1 — so a job whose ranks stopped as asked, their checkpoint
saved, reads as failed. Here those two ends exit with 128 + the signal: what a scheduler
expects of a pre-empted job, and what `alexnet train` itself returns. Any other failure
prints torchrun's table of failed ranks and exits 1.
"""
from __future__ import annotations

import signal
import sys

# A rank's exit status after a stop: 128 + the signal when it caught it (alexnet train),
# minus the signal when the signal ended it (before training began, or another program).
STOPPED = {128 + signal.SIGTERM: 143, -signal.SIGTERM: 143, 128 + signal.SIGINT: 130, -signal.SIGINT: 130}


def main(argv: list[str] | None = None) -> int:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run
    try:
        run(parse_args(argv))
    except SignalException as err:                  # torchrun itself was told to stop
        return 128 + int(err.sigval)
    except ChildFailedError as err:                 # a rank ended with a non-zero status
        codes = [STOPPED.get(f.exitcode) for f in err.failures.values()]
        if codes and None not in codes:             # every failed rank stopped on a signal
            return max(codes)                       # SIGTERM's 143 outranks Ctrl-C's 130
        print(err.format_msg(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
