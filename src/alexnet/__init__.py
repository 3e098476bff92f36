"""AlexNet (Krizhevsky, Sutskever, Hinton 2012), reproduced: models, data, training, records."""
__version__ = "0.1.0"
