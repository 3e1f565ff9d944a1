"""The hours pages: the weekly pattern (`/staff/hours`), date overrides (`/staff/overrides`)
and time off (`/staff/time-off`), each with the preview of what couples are offered and the
booked consultations the hours leave out.

Thin: parse the form, call `WorkspaceHours`, render. A form with problems comes back (422)
with every value kept and each problem named beside its field; a saved one redirects (303)
to its page, which then shows the new preview.
"""

from __future__ import annotations

from itertools import zip_longest
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from booking.core.errors import ValidationFailed
from booking.scheduling.hours import WEEKDAY_NAMES, WEEKDAYS, RangeIn, TimesIn
from booking.staff.hours import HoursPage, WorkspaceHours
from booking.staff.principal import StaffPrincipal
from booking.web.forms import FormState, FormValues, first, form_values
from booking.web.workspace import acting, chosen, page_context, with_therapist

# Spare rows each day offers for a new range (the form works without a script).
SPARE_ROWS = 2
OVERRIDE_ROWS = 3
SAVED = {
    "hours": "Your weekly hours are saved. Couples see the new times now.",
    "override": "The date's hours are saved. Couples see the new times now.",
    "override-removed": "The date follows your weekly hours again.",
    "time-off": "The time off is saved. Couples are no longer offered those times.",
    "time-off-removed": "The time off is removed.",
}


def week_rows(values: FormValues) -> list[RangeIn]:
    """The posted week: one (day, start, end) per range, in the order posted."""
    return [
        RangeIn(day or "", start or "", end or "")
        for day, start, end in zip_longest(
            values.get("day", []), values.get("start", []), values.get("end", [])
        )
    ]


def override_rows(values: FormValues) -> list[TimesIn]:
    return [
        TimesIn(start or "", end or "")
        for start, end in zip_longest(values.get("start", []), values.get("end", []))
    ]


def week_form(page: HoursPage) -> list[dict[str, Any]]:
    """The week as the form shows it: each day's ranges, then spare rows, numbered in the
    order the form posts them."""
    by_day: dict[str, list[tuple[str, str]]] = {day: [] for day in WEEKDAYS}
    for r in page.schedule.week:
        by_day[r.day].append((f"{r.hours.start:%H:%M}", f"{r.hours.end:%H:%M}"))
    index = 0
    days: list[dict[str, Any]] = []
    for number, day in enumerate(WEEKDAYS):
        entries = []
        for start, end in [*by_day[day], *[("", "")] * SPARE_ROWS]:
            entries.append({"index": index, "start": start, "end": end})
            index += 1
        days.append({"day": day, "name": WEEKDAY_NAMES[number], "rows": entries})
    return days


def posted_week(rows: list[RangeIn]) -> list[dict[str, Any]]:
    """The posted week as the form shows it again: each row under its day, with the number
    it was posted as (the problems name it). A row for no weekday (a tampered form) is shown
    under Monday, so its problem still appears beside it."""
    by_day: dict[str, list[dict[str, Any]]] = {day: [] for day in WEEKDAYS}
    for index, row in enumerate(rows):
        day = row.day if row.day in by_day else "mon"
        by_day[day].append({"index": index, "start": row.start, "end": row.end})
    return [
        {"day": day, "name": WEEKDAY_NAMES[number], "rows": by_day[day]}
        for number, day in enumerate(WEEKDAYS)
    ]


def week_labels(days: list[dict[str, Any]]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for day in days:
        for number, row in enumerate(day["rows"], start=1):
            name = f"ranges[{row['index']}]"
            labels[f"{name}.day"] = f"{day['name']}, range {number}"
            labels[f"{name}.start"] = f"{day['name']}, range {number}, from"
            labels[f"{name}.end"] = f"{day['name']}, range {number}, until"
    return labels


def week_values(days: list[dict[str, Any]]) -> FormValues:
    values: FormValues = {}
    for day in days:
        for row in day["rows"]:
            values[f"ranges[{row['index']}].start"] = [row["start"]]
            values[f"ranges[{row['index']}].end"] = [row["end"]]
    return values


OVERRIDE_LABELS = {
    "day": "Date",
    "closed": "Closed all day",
    **{
        f"ranges[{i}].{part}": f"Range {i + 1}, {'from' if part == 'start' else 'until'}"
        for i in range(OVERRIDE_ROWS + 12)
        for part in ("start", "end")
    },
}
TIME_OFF_LABELS = {"starts_at": "From", "ends_at": "Until", "note": "Private note"}


class HoursPages(Controller):
    """`/staff/hours`, `/staff/overrides`, `/staff/time-off` and their forms."""

    include_in_schema = False

    # -- weekly hours ------------------------------------------------------------------------

    @get("/hours", name="staff-hours")
    async def hours(
        self,
        principal: NamedDependency[StaffPrincipal],
        workspace_hours: NamedDependency[WorkspaceHours],
        therapist: FromQuery[str | None] = None,
        saved: FromQuery[str | None] = None,
    ) -> Template:
        page = await workspace_hours.page(principal, chosen(principal, therapist))
        days = week_form(page)
        return await _render(
            "staff/hours.html", principal, page, FormState(week_values(days)), saved, days=days
        )

    @post("/hours", status_code=303)
    async def save_hours(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        workspace_hours: NamedDependency[WorkspaceHours],
    ) -> Response[Any]:
        values = await form_values(request)
        slug = chosen(principal, first(values, "therapist"))
        rows = week_rows(values)
        try:
            page = await workspace_hours.replace_week(
                principal, slug, rows, acting(request, principal)
            )
        except ValidationFailed as problems:
            page = await workspace_hours.page(principal, slug)
            days = posted_week(rows)
            form = FormState.failed(week_values(days), problems.fields, week_labels(days))
            return await _render(
                "staff/hours.html", principal, page, form, None, status=422, days=days
            )
        return _saved("/staff/hours", principal, page, "hours")

    # -- date overrides ----------------------------------------------------------------------

    @get("/overrides", name="staff-overrides")
    async def overrides(
        self,
        principal: NamedDependency[StaffPrincipal],
        workspace_hours: NamedDependency[WorkspaceHours],
        therapist: FromQuery[str | None] = None,
        saved: FromQuery[str | None] = None,
    ) -> Template:
        page = await workspace_hours.page(principal, chosen(principal, therapist))
        return await _render(
            "staff/overrides.html", principal, page, FormState(), saved, rows=OVERRIDE_ROWS
        )

    @post("/overrides", status_code=303)
    async def save_override(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        workspace_hours: NamedDependency[WorkspaceHours],
    ) -> Response[Any]:
        values = await form_values(request)
        slug = chosen(principal, first(values, "therapist"))
        ranges = override_rows(values)
        closed = first(values, "closed") == "1"
        try:
            page = await workspace_hours.set_override(
                principal, slug, first(values, "day"), closed, ranges, acting(request, principal)
            )
        except ValidationFailed as problems:
            page = await workspace_hours.page(principal, slug)
            kept: FormValues = {"day": [first(values, "day")], "closed": ["1"] if closed else []}
            for i, given in enumerate(ranges):
                kept[f"ranges[{i}].start"] = [given.start]
                kept[f"ranges[{i}].end"] = [given.end]
            form = FormState.failed(kept, problems.fields, OVERRIDE_LABELS)
            return await _render(
                "staff/overrides.html",
                principal,
                page,
                form,
                None,
                status=422,
                rows=max(OVERRIDE_ROWS, len(ranges)),
            )
        return _saved("/staff/overrides", principal, page, "override")

    @post("/overrides/remove", status_code=303)
    async def remove_override(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        workspace_hours: NamedDependency[WorkspaceHours],
    ) -> Response[Any]:
        values = await form_values(request)
        slug = chosen(principal, first(values, "therapist"))
        try:
            page = await workspace_hours.remove_override(
                principal, slug, first(values, "day"), acting(request, principal)
            )
        except ValidationFailed as problems:
            page = await workspace_hours.page(principal, slug)
            form = FormState.failed({}, problems.fields, {})
            return await _render(
                "staff/overrides.html",
                principal,
                page,
                form,
                None,
                status=422,
                rows=OVERRIDE_ROWS,
            )
        return _saved("/staff/overrides", principal, page, "override-removed")

    # -- time off ----------------------------------------------------------------------------

    @get("/time-off", name="staff-time-off")
    async def time_off(
        self,
        principal: NamedDependency[StaffPrincipal],
        workspace_hours: NamedDependency[WorkspaceHours],
        therapist: FromQuery[str | None] = None,
        saved: FromQuery[str | None] = None,
    ) -> Template:
        page = await workspace_hours.page(principal, chosen(principal, therapist))
        return await _render("staff/time_off.html", principal, page, FormState(), saved)

    @post("/time-off", status_code=303)
    async def add_time_off(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        workspace_hours: NamedDependency[WorkspaceHours],
    ) -> Response[Any]:
        values = await form_values(request)
        slug = chosen(principal, first(values, "therapist"))
        try:
            page = await workspace_hours.add_time_off(
                principal,
                slug,
                first(values, "starts_at"),
                first(values, "ends_at"),
                first(values, "note"),
                acting(request, principal),
            )
        except ValidationFailed as problems:
            page = await workspace_hours.page(principal, slug)
            kept = {name: [first(values, name)] for name in TIME_OFF_LABELS}
            form = FormState.failed(kept, problems.fields, TIME_OFF_LABELS)
            return await _render("staff/time_off.html", principal, page, form, None, status=422)
        return _saved("/staff/time-off", principal, page, "time-off")

    @post("/time-off/remove", status_code=303)
    async def remove_time_off(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        workspace_hours: NamedDependency[WorkspaceHours],
    ) -> Response[Any]:
        values = await form_values(request)
        page = await workspace_hours.remove_time_off(
            principal,
            chosen(principal, first(values, "therapist")),
            first(values, "entry"),
            acting(request, principal),
        )
        return _saved("/staff/time-off", principal, page, "time-off-removed")


def _saved(path: str, principal: StaffPrincipal, page: HoursPage, what: str) -> Redirect:
    return Redirect(
        with_therapist(path, principal, page.therapist.slug, saved=what), status_code=303
    )


async def _render(
    template: str,
    principal: StaffPrincipal,
    page: HoursPage,
    form: FormState,
    saved: str | None,
    *,
    status: int = 200,
    **context: Any,
) -> Template:
    return Template(
        template_name=template,
        context=await page_context(
            principal,
            page.therapist.slug,
            page=page,
            form=form,
            saved=SAVED.get(saved or ""),
            **context,
        ),
        status_code=status,
    )
