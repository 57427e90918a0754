"""A PostgreSQL database of the test's own (created, then dropped), for the console's search index."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

# The server's maintenance database, reachable with trust auth on these machines and in CI.
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@asynccontextmanager
async def temporary_database() -> AsyncIterator[str]:
    """The URL of a fresh database, dropped afterwards."""
    name = "samvad_test_" + secrets.token_hex(6)
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
