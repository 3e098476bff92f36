"""Training: the loop (`loop.train`), §5's optimiser (`optim`), schedules, checkpoints."""
