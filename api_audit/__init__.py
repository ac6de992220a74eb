"""api-audit: evidence of open data access in UK local-government supplier systems."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("api-audit")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

PROJECT_URL = "https://github.com/api-audit/api-audit"
USER_AGENT = f"api-audit/{__version__} (+{PROJECT_URL})"
