"""Constants shared by the fake Harbor modules."""
import re

BASE = "/api/v2.0"
NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
