"""Evaluation: top-k error (`metrics`), VGG's dense testing (`vgg_dense`), §6.1's probes (`probes`)."""
