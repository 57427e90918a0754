"""Supervisor reports: today or a chosen range of days (India time), from the close records and CSAT answers.

For the range: chats handled, median and p90 handle time, median and p90 first-response time (joining the
queue to the first agent reply), the CSAT average and distribution, and dispositions; each also by
language, by agent and by label (a chat with two labels counts under both; one without, under "-").
The CSV has one row per closed chat with the conversation's hash, never its id: no identifiers.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.console.accounts import Role
from bot.console.closing import labels_of
from bot.console.http import http_error
from bot.handoff.queue import IST

if TYPE_CHECKING:
    from bot.console.api import Console

MAX_DAYS = 92
NO_LABEL = "-"
CSV_FIELDS = (
    "closed_at", "conversation", "agent", "language", "channel", "disposition", "labels",
    "handle_s", "first_response_s", "csat", "topic",
)  # fmt: skip


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (share 0.9 is p90); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def day_range(request: web.Request) -> tuple[date, date]:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD (India time; both default to today), checked."""
    today = datetime.now(IST).date()
    try:
        start = date.fromisoformat(request.query.get("from") or today.isoformat())
        end = date.fromisoformat(request.query.get("to") or start.isoformat())
    except ValueError:
        raise http_error(web.HTTPBadRequest, "from and to must be dates like 2026-12-01") from None
    if end < start:
        raise http_error(web.HTTPBadRequest, "to is before from")
    if (end - start).days >= MAX_DAYS:
        raise http_error(web.HTTPBadRequest, f"a report covers at most {MAX_DAYS} days")
    return start, end


def _bounds(start: date, end: date) -> tuple[float, float]:
    return (
        datetime.combine(start, time.min, IST).timestamp(),
        datetime.combine(end + timedelta(days=1), time.min, IST).timestamp(),
    )


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    handle = [float(r["handle_s"]) for r in rows if r.get("handle_s")]
    first = [float(r["first_response_s"]) for r in rows if r.get("first_response_s")]
    scores = [int(r["csat"]) for r in rows if r.get("csat")]
    dist = Counter(scores)

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "handled": len(rows),
        "median_handle_s": rounded(statistics.median(handle)) if handle else None,
        "p90_handle_s": rounded(percentile(handle, 0.9)),
        "median_first_response_s": rounded(statistics.median(first)) if first else None,
        "p90_first_response_s": rounded(percentile(first, 0.9)),
        "csat_avg": round(statistics.mean(scores), 2) if scores else None,
        "csat_responses": len(scores),
        "csat_distribution": {str(n): dist.get(n, 0) for n in range(1, 6)},
        "dispositions": dict(Counter(r["disposition"] for r in rows)),
    }


def build_report(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by: dict[str, dict[str, list[dict[str, Any]]]] = {"language": defaultdict(list), "agent": defaultdict(list)}
    by["label"] = defaultdict(list)
    for row in rows:
        by["language"][row.get("language") or NO_LABEL].append(row)
        by["agent"][row.get("agent") or NO_LABEL].append(row)
        for label in labels_of(row) or [NO_LABEL]:
            by["label"][label].append(row)
    return {
        "total": _summary(rows),
        **{f"by_{dim}": {key: _summary(group) for key, group in sorted(groups.items())} for dim, groups in by.items()},
    }


class ReportViews:
    def __init__(self, console: Console) -> None:
        self._console = console

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/console/api/reports", self.report),
            web.get("/console/api/reports.csv", self.csv),
        ]

    async def _rows(self, request: web.Request) -> tuple[date, date, list[dict[str, Any]]]:
        await self._console._agent(request, Role.SUPERVISOR)
        start, end = day_range(request)
        since, until = _bounds(start, end)
        closings = self._console.closings
        rows = [{**fields, "close_id": close_id} for close_id, fields in await closings.since(since, until)]
        survey = self._console.services.survey
        if survey is not None:  # answers come after their close, within a day
            scores = {a["close_id"]: a["score"] for a in await survey.answers(since, until + 86400)}
            for row in rows:
                row["csat"] = scores.get(row["close_id"], "")
        return start, end, rows

    async def report(self, request: web.Request) -> web.Response:
        """GET ?from&to: the figures, as JSON for the page's charts."""
        start, end, rows = await self._rows(request)
        return web.json_response({"from": start.isoformat(), "to": end.isoformat(), **build_report(rows)})

    async def csv(self, request: web.Request) -> web.Response:
        """GET ?from&to: one row per closed chat, no identifiers (the conversation's hash only)."""
        start, end, rows = await self._rows(request)
        out = io.StringIO()
        writer = csv.DictWriter(out, CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            closed_at = datetime.fromtimestamp(int(row["close_id"].split("-")[0]) / 1000, IST)
            writer.writerow(
                {**row, "closed_at": closed_at.isoformat(timespec="seconds"), "labels": " ".join(labels_of(row))}
            )
        name = f"samvad-report-{start.isoformat()}-{end.isoformat()}.csv"
        return web.Response(
            body=out.getvalue().encode("utf-8-sig"),  # with a BOM, so spreadsheet programs read Devanagari right
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )
