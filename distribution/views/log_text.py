"""How a settings change reads on the pages: what it changed ("Weight for Bot: none -> 3").
Who did it is templates/distribution/_actor.html, shared with the timeline, whose words
(kinds, reasons, why an operator was passed over) are the models' labels and the log's texts."""

from dataclasses import dataclass

from ..models import RoutingMode, SettingChange

# A SettingChange's field as a supervisor calls it.
FIELD_LABELS = {
    "name": "Name",
    "mode": "Routing mode",
    "sticky_days": "Sticky owner (days)",
    "response_minutes": "Response time (minutes)",
    "workload_limit": "Limit",
    "is_active": "Active",
    "presence": "Presence",
    "time_zone": "Time zone",
    "hours": "Working hours",
    "schedule": "Working hours",
    "weight": "Weight",
}
# What an empty old or new value means, per field (else "none").
EMPTY_MEANS = {"sticky_days": "off", "response_minutes": "off"}
MODE_LABELS = dict(RoutingMode.choices)


@dataclass(frozen=True)
class ChangeText:
    change: SettingChange
    what: str
    old: str
    new: str

    @classmethod
    def of(cls, change: SettingChange, *, on: str) -> "ChangeText":
        """`on` is the page's subject, "source" or "operator": a weight names the other."""
        what = FIELD_LABELS.get(change.field, change.field.replace("_", " ").capitalize())
        if change.operator_id and change.source_id:
            what += f" of {change.operator}" if on == "source" else f" for {change.source}"
        return cls(
            change=change,
            what=what,
            old=_value(change.field, change.old),
            new=_value(change.field, change.new),
        )


def _value(field: str, text: str) -> str:
    if not text:
        return EMPTY_MEANS.get(field, "none")
    if field == "mode":
        return MODE_LABELS.get(text, text)
    return text
