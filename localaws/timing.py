"""How slow the local AWS is: AWS's documented waits and quotas, in compressed time.

AWS makes code wait: API Gateway allows one DeleteRestApi every 30 seconds per account, one
CreateDeployment every 5 seconds, and so on. Code that works only because an emulator answers at
once fails on a real account, so the local AWS keeps these rules, scaled down:

    LOCALAWS_TIME_SCALE=0.1   (default) AWS's seconds times 0.1: a 30 s quota window lasts 3 s
    LOCALAWS_TIME_SCALE=1     AWS's own timing
    LOCALAWS_TIME_SCALE=0     instant: no quotas and no waits (the old, lenient behaviour)

``python -m localaws --time-scale X`` sets it for a server process. It is read on every use, so
a change takes effect at once.
"""
from __future__ import annotations

import os

ENV = "LOCALAWS_TIME_SCALE"
DEFAULT_SCALE = 0.1


def scale() -> float:
    """The factor applied to AWS's seconds (0 turns waits and quotas off)."""
    raw = os.environ.get(ENV, "")
    try:
        value = float(raw) if raw.strip() else DEFAULT_SCALE
    except ValueError:
        value = DEFAULT_SCALE
    return max(value, 0.0)


def seconds(aws_seconds: float) -> float:
    """AWS's ``aws_seconds`` in the local AWS's compressed time."""
    return aws_seconds * scale()
