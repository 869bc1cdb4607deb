"""
The raw floor of a registration: contact_register's transaction written with the sqlite3
module (SQLite only), the same statements with the same decision and log and the
minimum of Python. bench/inprocess.py times it against the service (goal 2);
bench/floor_urls.py serves it behind the real server and middleware (goal 3's ceiling).

Needs Django set up (it reuses the engine's pure functions and the identifier rules).
"""

import json
import sqlite3
from datetime import timedelta

from django.utils import timezone

from distribution import allocation
from distribution.models import normalize_identifier, trim

# contact_register's statements (allocation.lock_arrival, SQLite's path), hand-written:
# the locking statement with the loads, the lead and the sticky owner as columns, a new
# lead's insert, the contact's, the round robin's UPDATE (balanced), the tallies' upsert
# and the two events with the candidates as JSON.
RAW_ARRIVAL = """
SELECT w.operator_id, w.weight, w.balance, s.mode, s.sticky_days,
       o.is_active, o.workload_limit, o.presence, o.on_shift, o.shift_changes_at,
       (SELECT COUNT(*) FROM distribution_contact c
         WHERE c.operator_id = w.operator_id AND c.status = 'open'),
       (SELECT id FROM distribution_lead WHERE identifier_key = :key),
       (SELECT name FROM distribution_lead WHERE identifier_key = :key),
       CASE WHEN s.sticky_days IS NOT NULL THEN
         (SELECT c.operator_id FROM distribution_contact c
           WHERE c.lead_id = (SELECT id FROM distribution_lead WHERE identifier_key = :key)
             AND c.operator_id IS NOT NULL
           ORDER BY c.created_at DESC, c.id DESC LIMIT 1)
       END,
       CASE WHEN s.sticky_days IS NOT NULL THEN
         (SELECT c.created_at FROM distribution_contact c
           WHERE c.lead_id = (SELECT id FROM distribution_lead WHERE identifier_key = :key)
             AND c.operator_id IS NOT NULL
           ORDER BY c.created_at DESC, c.id DESC LIMIT 1)
       END
  FROM distribution_sourceoperatorconfig w
  JOIN distribution_source s ON s.id = w.source_id
  JOIN distribution_operator o ON o.id = w.operator_id
 WHERE w.source_id = :source
 ORDER BY w.operator_id
"""
RAW_NEW_LEAD = (
    "INSERT INTO distribution_lead (identifier, identifier_key, name, created_at)"
    " VALUES (?, ?, '', ?) ON CONFLICT (identifier_key) DO NOTHING RETURNING id"
)
RAW_CONTACT = (
    "INSERT INTO distribution_contact (lead_id, source_id, operator_id, status, message,"
    " responded_at, outcome, note, missed_by, created_at, assigned_at, closed_at)"
    " VALUES (?, ?, ?, 'open', '', NULL, NULL, '', '[]', ?, ?, NULL) RETURNING id"
)
RAW_TALLY = (
    "INSERT INTO distribution_contacttally (source_id, operator_key, status, n) VALUES {}"
    " ON CONFLICT (source_id, operator_key, status) DO UPDATE"
    " SET n = distribution_contacttally.n + excluded.n"
)
RAW_EVENTS = (
    "INSERT INTO distribution_contactevent (contact_id, at, kind, operator_id,"
    " previous_operator_id, actor_type, actor_name, reason, candidates, detail)"
    " VALUES (?, ?, 'registered', NULL, NULL, 'system', 'system', '', '[]', ''),"
    " (?, ?, ?, ?, NULL, 'system', 'system', ?, ?, '')"
)


def raw_register(db: sqlite3.Connection, identifier: str, source_id: int, rng) -> int:
    """contact_register's transaction with the sqlite3 module: the same statements, the
    same decision (presence, shifts, sticky owner, mode), the minimum of Python."""
    identifier = trim(identifier)
    key = normalize_identifier(identifier)
    now_dt = timezone.now()
    now = now_dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    db.execute("BEGIN IMMEDIATE")
    try:
        rows = db.execute(RAW_ARRIVAL, {"key": key, "source": source_id}).fetchall()
        if not rows:
            raise ValueError(source_id)  # The fallback paths are not in this workload.
        mode, sticky_days, lead_id, _name, owner, owner_at = rows[0][3:5] + rows[0][11:]
        if owner is not None:
            cutoff = now_dt - timedelta(days=sticky_days)
            if owner_at < cutoff.strftime("%Y-%m-%d %H:%M:%S.%f"):
                owner = None
        candidates, eligible = [], []
        for pk, weight, _, _, _, active, limit, presence, on_shift, edge, load, *_ in rows:
            if edge is not None and now >= edge:
                on_shift = not on_shift
            why_not = (
                "inactive"
                if not active
                else presence
                if presence != "available"
                else "off shift"
                if not on_shift
                else "full"
                if load >= limit
                else None
            )
            if why_not is None:
                eligible.append((pk, weight))
            candidates.append(
                {
                    "operator_id": pk,
                    "weight": weight,
                    "open_contacts": load,
                    "workload_limit": limit,
                    "eligible": why_not is None,
                    "why_not": why_not,
                }
            )
        balances = None
        if owner is not None and any(pk == owner for pk, _ in eligible):
            operator_id, reason = owner, "sticky"
        elif mode == "balanced":
            balances = {row[0]: row[2] for row in rows}
            operator_id, reason = allocation.smooth_pick(balances, eligible), "balanced"
        else:
            operator_id, reason = allocation.choose_operator(eligible, rng=rng), "weighted"
        tally = [(source_id, operator_id or 0, "open", 1)]
        if lead_id is None:
            lead_id = db.execute(RAW_NEW_LEAD, (identifier, key, now)).fetchone()[0]
            tally.insert(0, (source_id, 0, "lead", 1))
        assigned = now if operator_id else None
        (contact_id,) = db.execute(
            RAW_CONTACT, (lead_id, source_id, operator_id, now, assigned)
        ).fetchone()
        if balances is not None and len(eligible) > 1:
            db.execute(
                "UPDATE distribution_sourceoperatorconfig SET balance = CASE operator_id"
                + " WHEN ? THEN ?" * len(balances)
                + " ELSE balance END WHERE source_id = ?",
                [*(x for pair in balances.items() for x in pair), source_id],
            )
        db.execute(
            RAW_TALLY.format(", ".join(["(?, ?, ?, ?)"] * len(tally))),
            [x for row in tally for x in row],
        )
        db.execute(
            RAW_EVENTS,
            (
                contact_id,
                now,
                contact_id,
                now,
                "assigned" if operator_id else "queued",
                operator_id,
                reason if operator_id else "",
                json.dumps(candidates),
            ),
        )
        db.execute("COMMIT")
        return contact_id
    except BaseException:
        db.execute("ROLLBACK")
        raise
