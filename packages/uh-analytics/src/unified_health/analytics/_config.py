"""Configuration from the environment: the variables `AnalyticsClient.from_env` reads.

=====================================  ==========================================================
variable                               meaning
=====================================  ==========================================================
``UH_ANALYTICS_REDIS_URL``             Redis for consent, surrogate ids and the spill (optional;
                                       in-memory stores without it)
``UH_ANALYTICS_HMAC_KEYS``             ``id:secret[,id:secret...]`` for `HmacPseudonymizer`
                                       (optional; surrogate ids without it)
``UH_ANALYTICS_POSTHOG_API_KEY``       enables `PostHogProvider`
``UH_ANALYTICS_AMPLITUDE_API_KEY``     enables `AmplitudeProvider`
``UH_ANALYTICS_MIXPANEL_PROJECT_ID``   with ``UH_ANALYTICS_MIXPANEL_SECRET``, enables
                                       `MixpanelProvider`; ``UH_ANALYTICS_MIXPANEL_SERVICE_ACCOUNT``
                                       and ``UH_ANALYTICS_MIXPANEL_TOKEN`` (the project token,
                                       for profiles) are optional
``UH_ANALYTICS_<VENDOR>_REGION``       the vendor's region (optional)
``UH_ANALYTICS_<VENDOR>_BASE_URL``     another host, e.g. a self-hosted PostHog (optional)
=====================================  ==========================================================

Setting any variable of a vendor enables it, so a missing required one is an error that names
the variable, never a silently absent destination. Values are never echoed in errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from unified_health.analytics._clock import Clock
from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics.providers._amplitude import AmplitudeProvider
from unified_health.analytics.providers._base import Provider
from unified_health.analytics.providers._mixpanel import MixpanelProvider
from unified_health.analytics.providers._posthog import PostHogProvider

__all__ = [
    "HMAC_KEYS",
    "PREFIX",
    "REDIS_URL",
    "providers_from_env",
]

PREFIX = "UH_ANALYTICS_"
REDIS_URL = PREFIX + "REDIS_URL"
HMAC_KEYS = PREFIX + "HMAC_KEYS"


def _read(environ: Mapping[str, str], vendor: str) -> dict[str, str]:
    """The non-empty variables of one vendor, keyed by what follows its prefix."""
    start = f"{PREFIX}{vendor}_"
    return {
        name.removeprefix(start): value.strip()
        for name, value in environ.items()
        if name.startswith(start) and value.strip()
    }


def _required(settings: Mapping[str, str], vendor: str, name: str, why: str) -> str:
    value = settings.get(name)
    if not value:
        raise InvalidInputError(f"{PREFIX}{vendor}_{name}", f"must be set {why}")
    return value


def providers_from_env(
    environ: Mapping[str, str],
    *,
    sleep: Callable[[float], None] | None,
    clock: Clock,
) -> list[Provider]:
    """Build every provider whose variables are set (PostHog, Amplitude, Mixpanel, in that order).

    Raises:
        InvalidInputError: A vendor's variable is set but a required one is missing, or a value
            breaks a rule (the error names the variable).

    Examples:
        >>> from unified_health.analytics import SystemClock
        >>> env = {"UH_ANALYTICS_POSTHOG_API_KEY": "phc_key", "UH_ANALYTICS_POSTHOG_REGION": "eu"}
        >>> clock = SystemClock()
        >>> [(p.name, p.base_url) for p in providers_from_env(env, sleep=None, clock=clock)]
        [('posthog', 'https://eu.i.posthog.com')]
        >>> try:
        ...     providers_from_env({"UH_ANALYTICS_MIXPANEL_TOKEN": "t"}, sleep=None, clock=clock)
        ... except InvalidInputError as exc:
        ...     exc.field
        'UH_ANALYTICS_MIXPANEL_PROJECT_ID'
    """
    providers: list[Provider] = []
    posthog = _read(environ, "POSTHOG")
    if posthog:
        providers.append(
            _build(
                "POSTHOG",
                lambda: PostHogProvider(
                    _required(posthog, "POSTHOG", "API_KEY", "to send to PostHog"),
                    region=posthog.get("REGION", "us"),
                    base_url=posthog.get("BASE_URL"),
                    sleep=sleep,
                    clock=clock,
                ),
            )
        )
    amplitude = _read(environ, "AMPLITUDE")
    if amplitude:
        providers.append(
            _build(
                "AMPLITUDE",
                lambda: AmplitudeProvider(
                    _required(amplitude, "AMPLITUDE", "API_KEY", "to send to Amplitude"),
                    region=amplitude.get("REGION", "us"),
                    base_url=amplitude.get("BASE_URL"),
                    sleep=sleep,
                    clock=clock,
                ),
            )
        )
    mixpanel = _read(environ, "MIXPANEL")
    if mixpanel:
        providers.append(
            _build(
                "MIXPANEL",
                lambda: MixpanelProvider(
                    _required(mixpanel, "MIXPANEL", "PROJECT_ID", "to send to Mixpanel"),
                    _required(mixpanel, "MIXPANEL", "SECRET", "to send to Mixpanel"),
                    service_account=mixpanel.get("SERVICE_ACCOUNT"),
                    project_token=mixpanel.get("TOKEN"),
                    region=mixpanel.get("REGION", "us"),
                    base_url=mixpanel.get("BASE_URL"),
                    sleep=sleep,
                    clock=clock,
                ),
            )
        )
    return providers


# A provider's own field names, and the variable each one is read from.
_VARIABLES = {
    "api_key": "API_KEY",
    "region": "REGION",
    "base_url": "BASE_URL",
    "project_id": "PROJECT_ID",
    "secret": "SECRET",
    "service_account": "SERVICE_ACCOUNT",
    "project_token": "TOKEN",
}


def _build(vendor: str, make: Callable[[], Provider]) -> Provider:
    """Run ``make``, turning a provider's input error into one that names the variable."""
    try:
        return make()
    except InvalidInputError as exc:
        if exc.field.startswith(PREFIX):
            raise
        variable = _VARIABLES.get(exc.field)
        if variable is None:
            raise
        raise InvalidInputError(f"{PREFIX}{vendor}_{variable}", exc.rule) from exc
