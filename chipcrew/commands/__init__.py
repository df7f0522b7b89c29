"""The ``chipcrew`` commands, each imported only when chosen: ``crew`` (ask, chat, route, agents, tool, serve),
``eval_cmd``, ``bench`` and its ``bench_*`` sub-commands, ``litho``; with the helpers they share: ``terminal``
(progress bar, error style), ``lazy`` (groups that import on use) and ``choices`` (options from Literals)."""
