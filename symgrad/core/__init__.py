"""The core: operator table, graph, language, gate, reverse mode and the Program."""
