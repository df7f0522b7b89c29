"""GNNavigator (Qiu et al., DAC 2024): exploring the training configurations of a graph neural network.

- ``run_gnn_profile``: train one configuration for real and measure it (``tools.gnn.profile``);
- ``run_gnn_fit``: fit the gray-box runtime/memory/accuracy model and test it on held-out runs (``tools.gnn.fit``);
- ``run_gnn_explore``: the model-guided search for the configuration that best meets a priority
  (``tools.gnn.explore``).

The engines below them: graphs, samplers, feature cache, networks, training loop, workload counts,
performance model and Pareto choice, one module each.
"""
