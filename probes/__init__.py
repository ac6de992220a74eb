"""The methodology as data; this file only lets the folder ship as api_audit.probe_data."""
