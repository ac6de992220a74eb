"""The YAML toolkit every input file we read goes through: safe reading, limits, located
validation and did-you-mean.

- `files`: local files are read only when regular, and never past a cap;
- `limits`: size, depth and alias expansion, checked before any Python objects are built;
- `document`: YAML text -> plain data plus the line and column of every key and value;
- `validate`: a validator that records `file:line:col: message` problems as it reads;
- `suggest`: the one did-you-mean;
- `wording`: how messages show a value (quoted, redacted; or named by its YAML type).
"""

from api_audit.loading.document import (
    PathKey,
    YamlDocument,
    YamlLoadError,
    load_yaml_bytes,
    load_yaml_file,
    read_yaml_file,
)
from api_audit.loading.files import (
    InputFileError,
    InputTooLargeError,
    NotRegularFileError,
    file_kind,
    read_regular_file,
    require_regular,
)
from api_audit.loading.limits import MAX_BYTES, MAX_DEPTH, MAX_NODES
from api_audit.loading.suggest import close_match, did_you_mean
from api_audit.loading.validate import LocatedValidator, in_file_order
from api_audit.loading.wording import kind_of, quoted

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "InputFileError",
    "InputTooLargeError",
    "LocatedValidator",
    "NotRegularFileError",
    "PathKey",
    "YamlDocument",
    "YamlLoadError",
    "close_match",
    "did_you_mean",
    "file_kind",
    "in_file_order",
    "kind_of",
    "load_yaml_bytes",
    "load_yaml_file",
    "quoted",
    "read_regular_file",
    "read_yaml_file",
    "require_regular",
]
