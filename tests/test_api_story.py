"""
A day of the CRM through the API alone: a supervisor's script sets up operators and
sources, bots register 300 contacts, operators close some, and the statistics add up.
"""

import math

from tests.api_support import ApiClient, json_of

LIMITS = {"Ann": 40, "Bob": 60, "Cleo": 80}  # Room for 180 of the 300 at once.
WEIGHTS = {"Web": {"Ann": 1, "Bob": 2, "Cleo": 3}, "Telegram": {"Ann": 5, "Cleo": 1}}
CONTACTS = 300
LEADS = 200


def everything(api: ApiClient, path: str, **params) -> list[dict]:
    items: list[dict] = []
    while True:
        page = json_of(api.get(path, {**params, "limit": 1000, "offset": len(items)}))
        items += page["items"]
        if len(items) >= page["count"]:
            return items


def test_a_day_through_the_api_adds_up(client, db):
    api = ApiClient(client)

    operators = {
        name: json_of(api.post("/api/operators/", {"name": name, "workload_limit": limit}))["id"]
        for name, limit in LIMITS.items()
    }
    sources = {}
    for name, weights in WEIGHTS.items():
        source_id = json_of(api.post("/api/sources/", {"name": name}))["id"]
        body = {
            "weights": [{"operator_id": operators[op], "weight": w} for op, w in weights.items()]
        }
        assert api.post(f"/api/sources/{source_id}/weights", body).status_code == 200
        sources[name] = source_id

    for i in range(CONTACTS):
        # Every lead writes in more than once, sometimes spelled differently.
        identifier = f"Lead{i % LEADS}@Example.com" if i % 3 else f" lead{i % LEADS}@example.COM "
        source = "Web" if i % 4 else "Telegram"
        response = api.post(
            "/api/contacts/", {"lead_identifier": identifier, "source_id": sources[source]}
        )
        assert response.status_code == 201

    stats = json_of(api.get("/api/stats/"))
    assert stats["totals"] == {
        "leads": LEADS,
        "contacts": CONTACTS,
        "open_contacts": CONTACTS,
        "unassigned_contacts": CONTACTS - sum(LIMITS.values()),
    }

    # Each operator closes 30 of its contacts (oldest first); the queue refills the slots.
    for operator_id in operators.values():
        mine = everything(api, "/api/contacts/", operator_id=operator_id, status="open")
        for contact in mine[-30:]:
            response = api.post(f"/api/contacts/{contact['id']}/close")
            assert json_of(response)["status"] == "closed"

    stats = json_of(api.get("/api/stats/"))
    totals = stats["totals"]
    closed = 30 * len(operators)
    assert totals["contacts"] == CONTACTS
    assert totals["leads"] == LEADS
    assert totals["open_contacts"] == CONTACTS - closed
    # 90 slots were freed for 120 waiting contacts. (Bob has no Telegram weight, but at
    # least 45 of the waiting ones came through Web, more than the 30 he frees.)
    waiting = CONTACTS - sum(LIMITS.values()) - closed
    assert totals["unassigned_contacts"] == waiting

    # Operators: nobody above its limit, and their numbers make up the totals.
    for row in stats["operators"]:
        assert row["open_contacts"] <= row["workload_limit"]
    assert sum(row["open_contacts"] for row in stats["operators"]) == (
        totals["open_contacts"] - totals["unassigned_contacts"]
    )
    assert sum(row["total_contacts"] for row in stats["operators"]) == totals["contacts"] - waiting

    # Sources: per-source counts sum to the totals, shares sum to 1.
    assert sum(row["total_contacts"] for row in stats["sources"]) == totals["contacts"]
    assert sum(row["unassigned_contacts"] for row in stats["sources"]) == waiting
    for row in stats["sources"]:
        assigned = sum(op["contacts"] for op in row["operators"])
        assert assigned + row["unassigned_contacts"] == row["total_contacts"]
        assert math.isclose(sum(op["share"] for op in row["operators"]), 1.0)
        assert math.isclose(sum(op["expected_share"] for op in row["operators"]), 1.0)
        weights = WEIGHTS[row["name"]]
        assert {op["operator_id"]: op["weight"] for op in row["operators"]} == {
            operators[name]: weight for name, weight in weights.items()
        }
    telegram = next(row for row in stats["sources"] if row["name"] == "Telegram")
    assert telegram["total_contacts"] == CONTACTS // 4
    assert operators["Bob"] not in {op["operator_id"] for op in telegram["operators"]}

    # The lists tell the same story as the statistics.
    assert len(everything(api, "/api/contacts/")) == CONTACTS
    assert len(everything(api, "/api/contacts/", status="open")) == totals["open_contacts"]
    assert len(everything(api, "/api/contacts/", status="closed")) == closed
    assert len(everything(api, "/api/contacts/", unassigned="true")) == waiting
    leads = everything(api, "/api/leads/")
    assert len(leads) == LEADS
    assert sum(len(lead["contacts"]) for lead in leads) == CONTACTS
    operators_now = {row["id"]: row for row in everything(api, "/api/operators/")}
    for row in stats["operators"]:
        assert operators_now[row["id"]]["open_contacts"] == row["open_contacts"]
