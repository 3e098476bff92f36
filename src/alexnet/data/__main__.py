"""`python -m alexnet.data stats [key=value ...]`: compute, cache and print an ImageNet-style
folder's training statistics (mean image, channel mean/std, RGB PCA)."""
from .imagenet import main

raise SystemExit(main())
