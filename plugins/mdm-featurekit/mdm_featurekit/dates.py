"""Calendar features of :class:`~mdm_featurekit.instants.Instants`: calendar parts,
cyclical encodings and elapsed days, exact for every date an Arrow value can hold.

Every function is row-wise (no fitted state beyond the arguments), so results never
depend on batch boundaries; missing instants give nulls.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from mdm_featurekit.arrays import float_array, int_array
from mdm_featurekit.instants import NS_PER_DAY, Instants

_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proleptic Gregorian (year, month, day) of whole days since 1970-01-01, for any
    int64 day count (H. Hinnant's ``civil_from_days``, vectorised; exact, no range
    limit short of int64 overflow, which days of an Arrow value never reach)."""
    z = days.astype(np.int64) + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whole days since 1970-01-01 of proleptic Gregorian dates (inverse of :func:`_civil`)."""
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = np.where(month > 2, month - 3, month + 9)
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def calendar(instants: Instants) -> dict[str, pa.Array]:
    """Calendar parts of naive UTC instants as int64 arrays: year, month, day, dayofweek
    (Monday=0), hour, minute, quarter, dayofyear, is_weekend, is_month_start, is_month_end
    (0/1); missing instants give nulls. Exact for every date an Arrow value can hold."""
    missing = instants.missing
    days = instants.days
    year, month, day = _civil(days)
    dow = np.mod(days + 3, 7)  # 1970-01-01 was a Thursday
    leap = (np.mod(year, 4) == 0) & ((np.mod(year, 100) != 0) | (np.mod(year, 400) == 0))
    month_days = _MONTH_DAYS[month] + ((month == 2) & leap)
    jan1 = _days_from_civil(year, np.ones_like(year), np.ones_like(year))
    hour = instants.nanos // (3600 * 10**9)
    minute = (instants.nanos // (60 * 10**9)) % 60
    parts = {
        "year": year,
        "month": month,
        "day": day,
        "dayofweek": dow,
        "hour": hour,
        "minute": minute,
        "quarter": (month - 1) // 3 + 1,
        "dayofyear": days - jan1 + 1,
        "is_weekend": dow >= 5,
        "is_month_start": day == 1,
        "is_month_end": day == month_days,
    }
    return {name: int_array(values, missing) for name, values in parts.items()}


def cyclical(values: pa.Array, period: int) -> tuple[pa.Array, pa.Array]:
    """sin and cos of ``2*pi*value/period`` (float64; null stays null), e.g. of a
    calendar part with its period (month 12, hour 24, dayofweek 7)."""
    x = values.to_numpy(zero_copy_only=False).astype(float) * (2 * math.pi / period)
    return float_array(np.sin(x)), float_array(np.cos(x))


def days_since(instants: Instants, start_ns: int | None) -> pa.Array:
    """Whole days (floor) from ``start_ns`` (integer ns since the epoch, any size, e.g.
    the training table's :meth:`Instants.min_ns`) to each instant, exactly, as int64; null
    when either is missing."""
    if start_ns is None:
        return pa.nulls(len(instants), pa.int64())
    start_days, start_nanos = divmod(int(start_ns), NS_PER_DAY)
    whole = instants.days - np.int64(start_days) - (instants.nanos < start_nanos)
    return int_array(whole, instants.missing)
