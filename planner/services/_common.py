"""What every application-layer action shares: the progress callback.

The type and the silent default live in :mod:`planner.progress` (analysis
modules use them too); they are re-exported here for the callers of services.
"""

from planner.progress import Progress, no_progress

__all__ = ["Progress", "no_progress"]
