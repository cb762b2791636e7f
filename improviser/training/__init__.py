"""Training: the dataset, the Keras model, the training loop, evaluation and baselines."""
