"""Reference data under ``<root>/reference/``, loaded into typed objects and validated.

Every problem is a :class:`ConfigError`: one line naming the file, the key or the file's line
(header = line 1), and the rule.
"""

from meter_pipeline.config.errors import ConfigError
from meter_pipeline.config.meters import Meter, MetersConfig, load_meters

__all__ = ["ConfigError", "Meter", "MetersConfig", "load_meters"]
