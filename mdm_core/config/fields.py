"""Declaring a settings key with its documentation: :func:`setting`.

Every key of a settings class (the host's and every plugin's) says what it means, so that
``docs/configuration.md`` (``python -m mdm_core.config.reference``) documents every key::

    @attrs.frozen
    class MyStoreSettings:
        flush_interval_ms: int = setting(500, "Milliseconds between two flushes of the write buffer.")

The text is kept in the field's metadata under :data:`DOC`; ``shown_default`` (metadata
:data:`SHOWN_DEFAULT`) replaces the default in the reference when it depends on the
machine (``performance.max_workers``: the number of cores). A section whose class lives
outside the config package (``flags``: :class:`mdm_core.flags.Flags`) documents its keys on
the section's field instead (metadata :data:`KEY_DOCS`, key name -> doc).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

#: Field metadata key: one or two sentences saying what the key means.
DOC = "mdm_doc"
#: Field metadata key: how the reference shows a default computed on the machine.
SHOWN_DEFAULT = "mdm_shown_default"
#: Metadata of a section field whose class is defined elsewhere (``flags``): key -> doc.
KEY_DOCS = "mdm_key_docs"


def setting(default: Any = attrs.NOTHING, doc: str = "", *, factory: Callable[[], Any] | None = None,
            shown_default: str | None = None, **kwargs: Any) -> Any:
    """An attrs field with ``default`` (or ``factory``) and its documentation ``doc``;
    other keyword arguments (``repr=secret_repr``) go to :func:`attrs.field`."""
    metadata = {DOC: " ".join(doc.split())}
    if shown_default is not None:
        metadata[SHOWN_DEFAULT] = shown_default
    if factory is not None:
        return attrs.field(factory=factory, metadata=metadata, **kwargs)
    return attrs.field(default=default, metadata=metadata, **kwargs)


def field_doc(field: attrs.Attribute) -> str:
    """What ``field`` means, as declared with :func:`setting` ("" when undocumented)."""
    return str(field.metadata.get(DOC, ""))
