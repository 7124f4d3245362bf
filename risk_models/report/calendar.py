"""The dates to watch as an iCalendar file (RFC 5545), for the calendars a team already uses: one
all-day event per date, saying what to re-assess. UIDs are stable, so importing a newer file updates
the events instead of duplicating them."""

from __future__ import annotations

import datetime as dt
import hashlib

from icalendar import Calendar, Event

from risk_models.report.cases import WatchItem

PRODID = "-//AI vendor-risk dashboard//case watch//EN"


def _uid(item: WatchItem) -> str:
    key = f"{item.date.isoformat()}|{item.kind}|{item.title}".encode()
    return f"{hashlib.sha256(key).hexdigest()[:32]}@ai-vendor-risk"


def calendar_bytes(items: list[WatchItem], organisation: str, generated_at: dt.datetime | None = None) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"AI vendor risk — dates to watch ({organisation})" if organisation
            else "AI vendor risk — dates to watch")
    stamp = generated_at or dt.datetime.now(dt.UTC)
    for item in items:
        ev = Event()
        ev.add("uid", _uid(item))
        ev.add("dtstamp", stamp)
        ev.add("dtstart", item.date)  # a date: an all-day event
        ev.add("dtend", item.date + dt.timedelta(days=1))
        ev.add("summary", f"{item.kind}: {item.title}")
        lines = [f"What to re-assess: {item.reassess}"]
        if item.deployments:
            lines.append(f"Deployments: {', '.join(item.deployments)}")
        if item.source_url:
            lines.append(f"Source: {item.source_url}")
            ev.add("url", item.source_url)
        ev.add("description", "\n".join(lines))
        ev.add("categories", [item.kind])
        cal.add_component(ev)
    return cal.to_ical()
