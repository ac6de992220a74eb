"""The engine's options for one run: limits, politeness, caps and budgets.

This module imports no HTTP library, so a command can build options without loading one.
"""

from __future__ import annotations

from dataclasses import dataclass

from api_audit import USER_AGENT

POLITE_MIN_INTERVAL = 0.5  # seconds between request starts on one host: `run`'s default (§3.1)


@dataclass(frozen=True)
class FetchOptions:
    concurrency: int = 32  # global in-flight limit, equal to the pool size so nothing queues there
    per_host: int = 2  # in-flight limit per scheme://host:port
    # Minimum seconds between request starts on one host. 0 here, for tests and the demo;
    # `api-audit run` uses POLITE_MIN_INTERVAL unless told otherwise.
    min_interval: float = 0.0
    allow_private: bool = False  # permit loopback and private ranges (never link-local/metadata)
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    # The server's time for the whole fetch, from its first request on the wire: every hop
    # and the body. Waits for our own limits (queues, spacing, robots.txt, a Retry-After
    # pause, itself capped) do not count.
    deadline: float = 20.0
    max_redirects: int = 5
    max_wire_bytes: int = 5 * 1024 * 1024
    max_decoded_bytes: int = 20 * 1024 * 1024
    retry_after_cap: float = 10.0  # honour Retry-After on 429/503 up to this: pause, retry once
    # Errors in a row before a host is left alone (0: never): network errors, and answers
    # that ask us to come back later (a 429, or a 503 with Retry-After).
    host_error_budget: int = 3
    # Seconds of pausing one host may ask for in a run (Retry-After on 429/503; a robots.txt
    # Crawl-delay is a standing rule, not charged). A pause that would go past it is not
    # waited: the host is left alone instead. math.inf: no budget.
    host_wait_budget: float = 30.0
    respect_robots: bool = True  # ask each origin's robots.txt first (robots.py)
    crawl_delay_cap: float = 10.0  # a robots.txt Crawl-delay stretches spacing up to this
    user_agent: str = USER_AGENT
