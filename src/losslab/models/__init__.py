"""Functional models (linear, logistic, softmax, MLP) with manual backprop through the losses' gradients."""

__all__: list[str] = []
