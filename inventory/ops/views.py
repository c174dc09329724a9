import hmac
import ipaddress
import os

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from inventory.ops import health
from inventory.ops.metrics import DomainCollector


@require_GET
@never_cache
def healthz(request):
    """Liveness: the process answers. No database, so a database outage does not get the web
    process restarted in a loop."""
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
@never_cache
def readyz(request):
    """The status for anyone (a load balancer's probe); which checks failed and why (paths,
    disk space, jobs) only for the machine itself or with the METRICS_TOKEN."""
    checks = health.run_checks()
    failed = [name for name, result in checks.items() if not result["ok"]]
    status = "fail" if failed else "ok"
    body = {"status": status, "failed": failed, "checks": checks}
    if not (_from_loopback(request) or _has_metrics_token(request)):
        body = {"status": status}
    return JsonResponse(body, status=503 if failed else 200)


@require_GET
@never_cache
def metrics(request):
    if not _may_scrape(request):
        return HttpResponse(
            "Metrics are only served to the addresses in METRICS_ALLOWED_IPS or with the "
            "METRICS_TOKEN bearer token.\n",
            status=403,
            content_type="text/plain",
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def _may_scrape(request) -> bool:
    if _has_metrics_token(request):
        return True
    client = _client_address(request)
    return client is not None and any(client in net for net in settings.METRICS_ALLOWED_IPS)


def _has_metrics_token(request) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def _from_loopback(request) -> bool:
    client = _client_address(request)
    return client is not None and client.is_loopback


def _client_address(request):
    """REMOTE_ADDR: behind Caddy, daphne's --proxy-headers puts the real client's there."""
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return None


def _registry():
    """The default registry (django-prometheus, the kiosk's histogram, our collector), or in
    prometheus_client's multiprocess mode a registry merging every process's files."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(DomainCollector())
    return registry
