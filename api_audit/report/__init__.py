"""Every output, one module each: data in, text out (tables, JSON, generated docs)."""
