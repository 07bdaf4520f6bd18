"""Every analytics process bounds each read store round trip: a hung store is an error, not a held request."""

from __future__ import annotations

from services.analytics.settings import AnalyticsSettings, mongo_client


async def test_the_client_bounds_each_round_trip_and_reads_aware_times() -> None:
    client = mongo_client(AnalyticsSettings(mongo_url="mongodb://127.0.0.1:1/", mongo_timeout_seconds=7.5))
    try:
        assert client.options.pool_options.socket_timeout == 7.5
        assert client.options.server_selection_timeout == 7.5
        assert client.codec_options.tz_aware is True
    finally:
        await client.close()
