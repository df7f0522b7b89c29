"""LangGraph apps: the supervisor graph, its state, the tiered router and the session checkpointers."""
