"""The notes' workloads, built the same way by every experiment that uses them.

- `catalog`: the networks and optimizers by name, as plain numbers (torch-free,
  so declarations can validate settings without torch);
- `data`: one split type for every data set (Iris, digits, synthetic, a user's files);
- `files`: readers of MNIST's and CIFAR-10's original file formats;
- `models`: one builder for every network, and the optimizers;
- `loops`: the notes' training loop and its logging variants.
"""
