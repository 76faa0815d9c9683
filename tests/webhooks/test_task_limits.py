"""A delivery attempt stopped by the task's time limit, in a real worker: a failed
attempt on the delivery row, sent again by the sweep, never lost."""
from photoservice.webhooks.delivery import LEASE_MARGIN
from tests.processing.test_worker import wait_until
from tests.webhooks.test_worker import WORKER, upload_photo


def test_a_delivery_past_the_task_limit_is_a_failed_attempt_sent_again(
        owner, register, receiver, start_worker, deliveries, wait_deliveries):
    receiver.script = [("sleep", 10)]  # the first attempt hangs, the next one is answered
    # The attempt's own timeout is longer than the task's limit: the limit stops it.
    start_worker(beat=True, TASK_TIME_LIMIT=2, WEBHOOK_TIMEOUT=4, **WORKER)
    register(receiver.url, ["photo.uploaded"])
    photo = upload_photo(owner, "Drip edge")
    assert owner.finalize(photo["id"]).status_code == 200
    receiver.wait_for(1)

    def stopped():
        [row] = deliveries()
        return row.last_error is not None and row

    wait_until(stopped, timeout=30, what="the stopped attempt recorded")
    row = stopped()
    assert (row.status, row.attempts, row.last_error) == (
        "pending", 1, "The attempt took longer than 2 s.")
    [row] = wait_deliveries(1, timeout=60)  # the sweep sent it again once the lease was over
    assert row.attempts == 2 and row.last_error is None
    assert len(receiver.requests) == 2
    first, second = (request["time"] for request in receiver.requests)
    assert second - first >= 4 + LEASE_MARGIN - 0.5  # once the claim's lease was over
