import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# DjangoTask gives every task delay_on_commit(): enqueue only once the writing
# transaction has committed, so a worker never sees an id that does not exist yet.
app = Celery("gateway", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
