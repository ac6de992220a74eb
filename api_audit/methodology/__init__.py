"""The methodology's code: safe documents, OpenAPI checks and the matchers probes name."""
