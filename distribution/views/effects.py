"""What a supervisor's action did, in one sentence next to where it was done.

The services return what they return (the operator, the source); what they did is
their report in the decision log, which the views catch with decision_log.capture()
around the call and turn into words here:

    Limit 35 -> 42: 7 queued contacts assigned to Chen.
    Inactive: 4 open contacts returned to the queue; 3 went to Bruno, 1 waits.
    Weight for Chen set to 3: 2 queued contacts assigned to Chen.

A change that moves no contact says only what changed.
"""

from collections import Counter

from .. import selectors
from ..decision_log import Captured
from ..models import ContactEvent, SettingChange

Kind = ContactEvent.Kind


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _shares(counts: Counter[int], names: dict[int, str]) -> list[tuple[int, str]]:
    """(how many, to whom) per operator: most first, then by name."""
    named = [(n, names.get(pk, f"#{pk}")) for pk, n in counts.items()]
    return sorted(named, key=lambda share: (-share[0], share[1]))


def _setting(change: SettingChange, names: dict[int, str]) -> str:
    """One settings change in words: "Limit 35 -> 42", "Available", "Weight for Chen set to 3"."""
    match change.field:
        case "workload_limit":
            return f"Limit {change.old} -> {change.new}"
        case "presence":
            return change.new.capitalize()
        case "is_active":
            return "Active" if change.new == "yes" else "Inactive"
        case "name":
            return f"Renamed {change.old} -> {change.new}"
        case "weight":
            who = names.get(change.operator_id or 0, f"#{change.operator_id}")
            if not change.new:
                return f"Weight for {who} removed"
            return f"Weight for {who} set to {change.new}"
        case _:
            return f"{change.field.replace('_', ' ').capitalize()} {change.old} -> {change.new}"


def _assigned(captured: Captured) -> dict[int, int]:
    """Contact -> the operator the action handed it to, in the order they were handed out
    (a contact requeued and not handed out again is not in it)."""
    assigned: dict[int, int] = {}
    for e in captured.contact_events:
        if e.kind == Kind.ASSIGNED and e.operator_id is not None:
            assigned[e.contact_id] = e.operator_id
        elif e.kind == Kind.REQUEUED:
            assigned.pop(e.contact_id, None)
    return assigned


def handed_out(captured: Captured) -> list[int]:
    """The contacts the action handed to operators: after a close, those that took its slot."""
    return list(_assigned(captured))


def handed_out_to(captured: Captured) -> set[int]:
    """The operators the action handed contacts to (their loads changed)."""
    return set(_assigned(captured).values())


def _moves(captured: Captured, names: dict[int, str]) -> list[str]:
    """What happened to contacts: returned to the queue and where they went, then the
    queued contacts handed out (a contact's last assignment counts)."""
    events = captured.contact_events
    requeued = list(dict.fromkeys(e.contact_id for e in events if e.kind == Kind.REQUEUED))
    assigned = _assigned(captured)
    moves = []
    if requeued:
        shares = _shares(Counter(assigned[pk] for pk in requeued if pk in assigned), names)
        # "3 went to Bruno, 1 to Ann, 1 waits"
        went = [f"{n} {'went to' if i == 0 else 'to'} {who}" for i, (n, who) in enumerate(shares)]
        waiting = sum(1 for pk in requeued if pk not in assigned)
        if waiting:
            went.append(f"{waiting} {'waits' if waiting == 1 else 'wait'}")
        returned = _count(len(requeued), "open contact")
        moves.append(f"{returned} returned to the queue; {', '.join(went)}")
    drained = Counter(op for pk, op in assigned.items() if pk not in requeued)
    if drained:
        queued = _count(sum(drained.values()), "queued contact")
        shares = _shares(drained, names)
        if len(shares) == 1:
            moves.append(f"{queued} assigned to {shares[0][1]}")
        else:
            each = ", ".join(f"{n} to {who}" for n, who in shares)
            moves.append(f"{queued} assigned: {each}")
    return moves


def describe(captured: Captured, *, lead: str = "") -> str:
    """The sentence for what was captured; `lead` replaces the settings part (a page that
    says it its own way: "Working hours of Ann saved"). "" when nothing happened."""
    ids = {c.operator_id for c in captured.setting_changes if c.operator_id}
    ids |= {e.operator_id for e in captured.contact_events if e.operator_id}
    names = selectors.operator_names(ids)
    lead = lead or "; ".join(_setting(c, names) for c in captured.setting_changes)
    moves = _moves(captured, names)
    if not moves:
        return f"{lead}." if lead else ""
    text = "; ".join(moves)
    return f"{lead}: {text}." if lead else f"{text[0].upper()}{text[1:]}."
