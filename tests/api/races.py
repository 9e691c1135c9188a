"""Posting at once: each post from its own client, released together; and the posts."""

import datetime as dt
import threading
import uuid


def send_at_once(app, posts: list[tuple[str, str, dict]]) -> list[int]:
    """Send the posts (API key, path, body) at once; their statuses, in order."""
    start, answers = threading.Barrier(len(posts)), [None] * len(posts)

    def client(index: int, key: str, path: str, body: dict) -> None:
        start.wait()
        headers = {"Authorization": f"Bearer {key}"}
        answers[index] = app.test_client().post(path, json=body, headers=headers).status_code

    threads = [threading.Thread(target=client, args=(i, *post)) for i, post in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def now(minutes_ago: float = 0) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)).isoformat()


def scrap(code: str, **extra) -> tuple[str, dict]:
    body = {"event_id": str(uuid.uuid4()), "item_code": code, "occurred_at": now(), "reason": "x"}
    return "/api/v1/scraps", body | extra


def repair(code: str, parts=(), completed=True) -> tuple[str, dict]:
    """A repair of the unit `code` fitting or removing `parts`; an intake if not completed."""
    body = {
        "event_id": str(uuid.uuid4()),
        "item_code": code,
        "technician": "Li Wei",
        "received_at": now(2),
        "symptom": "Does not heat",
        "parts": [{"part_number": "PCB-1", **part} for part in parts],
    }
    if completed:
        body |= {"completed_at": now(1), "outcome": "repaired"}
    return "/api/v1/repairs", body


def shipment(code: str) -> tuple[str, dict]:
    return "/api/v1/shipments", {
        "event_id": str(uuid.uuid4()),
        "number": f"RACE-{uuid.uuid4().hex[:10]}",
        "carrier": "SF Express",
        "origin": "Ningbo plant",
        "destination": "Shanghai DC",
        "consignee": "East China Appliances Co.",
        "shipped_at": now(30),
        "item_codes": [code],
    }
