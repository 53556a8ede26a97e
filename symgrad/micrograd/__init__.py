"""micrograd's API on symgrad: Value, nn, tracing Python functions, compiled losses."""
