"""Where a typed address is: the Flemish government's geolocation service (Digitaal Vlaanderen's
Geolocation API v4, `LOKET_REPORT_ADDRESS_API`), which places an address of Flanders or Brussels at its
real coordinates.

`GET {base}/Location?q=<address>&c=1` answers `{"LocationResult": [{"FormattedAddress": ..., "Location":
{"Lat_WGS84": ..., "Lon_WGS84": ..., ...}, ...}]}`, an empty list when it finds nothing; the report keeps
the address as the person typed it, the register gives only its coordinates. Whatever goes
wrong (no answer in time, an error, an answer of another shape, a place far from the one chosen) comes
back as None, and the page places the report at the chosen place's centre instead. The address is
personal data: it is never logged, and httpx's own line for the request (its URL holds the address) is
held back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from loket.logging import get_logger
from loket.reports.places import Municipality
from loket.reports.service import haversine

log = get_logger(__name__)
TIMEOUT = 3.0  # seconds: the person is waiting on the form
FAR_METRES = 20_000  # an answer farther than this from the place chosen is another street of the same name


@dataclass(frozen=True)
class Located:
    latitude: float
    longitude: float


class AddressRegister:
    """A client of the geolocation service at `base_url` (e.g. `https://geo.api.vlaanderen.be/geolocation/v4`)."""

    def __init__(self, base_url: str, timeout: float = TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(timeout=timeout)
        self._quiet = _Quiet(self.base_url)
        logging.getLogger("httpx").addFilter(self._quiet)

    def locate(self, street: str, place: Municipality) -> Located | None:
        """The address `street` (street and house number) in `place`, or None when it is not found."""
        query = f"{street}, {place.postal_code} {place.name}"
        try:
            response = self.http.get(f"{self.base_url}/Location", params={"q": query, "c": 1})
            response.raise_for_status()
            found = response.json()["LocationResult"]
            if not found:
                log.info("address_not_found")
                return None
            location = found[0]["Location"]
            located = Located(float(location["Lat_WGS84"]), float(location["Lon_WGS84"]))
        except httpx.HTTPStatusError as error:
            log.warning("address_lookup_failed", status=error.response.status_code)
            return None
        except httpx.HTTPError as error:
            log.warning("address_lookup_failed", error=type(error).__name__)
            return None
        except (ValueError, KeyError, IndexError, TypeError) as error:
            log.warning("address_lookup_failed", error=f"unexpected answer ({type(error).__name__})")
            return None
        if haversine(located.latitude, located.longitude, place.latitude, place.longitude) > FAR_METRES:
            log.info("address_not_found", reason="far from the place chosen")
            return None
        return located

    def close(self) -> None:
        self.http.close()
        logging.getLogger("httpx").removeFilter(self._quiet)


class _Quiet(logging.Filter):
    """Holds back httpx's "HTTP Request: GET <url>" line for the service: the URL holds the address."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(str(arg).startswith(self.base_url) for arg in args)
