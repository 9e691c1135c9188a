"""Posting at once: each post from its own client, released together."""

import threading


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
