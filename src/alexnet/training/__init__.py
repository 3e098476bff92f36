"""Training: the loop (`loop.train`), §5's optimiser (`optim`), schedules (`schedule`), checkpoints
(`checkpoint`), stopping a diverging run (`guard`), watching a run (`monitor`, `status`, `progress`)."""
