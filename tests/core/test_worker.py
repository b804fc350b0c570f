from django.db import transaction

from core.models import Heartbeat
from core.tasks import heartbeat
from tests.conftest import wait_for


def test_a_real_worker_runs_a_task_enqueued_on_commit(celery_worker):
    with transaction.atomic():
        heartbeat.delay_on_commit("e2e-probe")
        # Not sent before the commit: a worker can never see a row that does not exist yet.
        assert not Heartbeat.objects.filter(name="e2e-probe").exists()

    beat = wait_for(lambda: Heartbeat.objects.filter(name="e2e-probe").first(), timeout=30)
    if beat is None:
        celery_worker.terminate()
        output = celery_worker.communicate(timeout=10)[0]
        raise AssertionError(f"the worker never ran the task; its output:\n{output[-3000:]}")
    assert beat.hostname
