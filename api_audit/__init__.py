"""api-audit: evidence of open data access in UK local-government supplier systems."""

# The one place the version is written: pyproject.toml reads it from here (dynamic), and
# every run records it. Asking importlib.metadata instead cost 30 ms at every start.
__version__ = "0.1.0"

PROJECT_URL = "https://github.com/api-audit/api-audit"
USER_AGENT = f"api-audit/{__version__} (+{PROJECT_URL})"
