"""`/staff/reports?from=YYYY-MM-DD&to=YYYY-MM-DD`: the admin's reports (staff.md, "Reports"),
each chart beside its numbers. Admins only (anyone else: 404).

Without a range the page shows this month (the practice's). The charts are SVG drawn on the
server and embedded as `data:` images, which the Content-Security-Policy allows (`img-src
'self' data:`) while it refuses inline script and style; an image's SVG runs nothing.
"""

from __future__ import annotations

import base64
from datetime import date, timedelta
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template

from booking.core.errors import FieldError, ValidationFailed
from booking.core.timezones import zone
from booking.staff.principal import StaffPrincipal
from booking.staff.reports import Report, ReportService
from booking.web.forms import FormState
from booking.web.staff_auth import admin_only

RANGE_LABELS = {"from": "From", "to": "To"}
# The service names the range's ends `first` and `last`; the form, `from` and `to`.
_FORM_FIELD = {"first": "from", "last": "to"}


def this_month(today: date) -> tuple[date, date]:
    """The first and last day of `today`'s month."""
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def chart_src(report: Report) -> str:
    """The report's chart as a `data:` URL for an <img>."""
    return "data:image/svg+xml;base64," + base64.b64encode(report.svg.encode()).decode("ascii")


class ReportPages(Controller):
    path = "/reports"
    guards = [admin_only]
    include_in_schema = False

    @get("/", name="staff-reports")
    async def reports(
        self,
        principal: NamedDependency[StaffPrincipal],
        reports: NamedDependency[ReportService],
        start: Annotated[str | None, QueryParameter(name="from")] = None,
        end: Annotated[str | None, QueryParameter(name="to")] = None,
    ) -> Template:
        today = reports.clock().astimezone(zone(reports.practice_timezone)).date()
        default_first, default_last = this_month(today)
        given = {"from": (start or "").strip(), "to": (end or "").strip()}
        problems: list[FieldError] = []
        first = _date(given["from"], "from", default_first, problems)
        last = _date(given["to"], "to", default_last, problems)
        values = {
            "from": [given["from"] or default_first.isoformat()],
            "to": [given["to"] or default_last.isoformat()],
        }
        found = None
        try:
            if problems:
                raise ValidationFailed("Some dates need attention.", problems)
            found = await reports.reports(principal, first, last)
        except ValidationFailed as refused:
            named = [
                FieldError(_FORM_FIELD.get(p.field, p.field), p.message) for p in refused.fields
            ]
            form = FormState.failed(values, named, RANGE_LABELS)
        else:
            form = FormState(values)
        return Template(
            template_name="staff/people/reports.html",
            context={
                "principal": principal,
                "form": form,
                "found": found,
                "charts": {r.key: chart_src(r) for r in found.reports} if found else {},
            },
            status_code=200 if found else 422,
        )


def _date(text: str, field: str, default: date, problems: list[FieldError]) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(FieldError(field, "Give a date such as 2026-12-01."))
        return default
