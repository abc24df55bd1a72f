"""What every backend family says the same way about where its model comes from.

- :func:`source_key`: the key under which a loaded model is kept in memory
  (``NeuralEmbedder._backend_key``), from the model's source: a hub name as is,
  a local file or folder with the identity of its file(s)
  (:func:`sertools.utils._files.file_token`), so that a replaced checkpoint is
  loaded again;
- :func:`fetch_failed`: the message of a model found neither locally nor
  through its family's hub, saying how to place it for offline use;
- :func:`describe_error`: a backend's exception in one short line.

Where a model is looked for (an explicit path, ``model_dir`` /
``$SERTOOLS_MODEL_DIR``, then the hub) is :mod:`sertools.features._checkpoints`'.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..utils._files import file_token

__all__ = ["describe_error", "fetch_failed", "source_key"]


def source_key(kind: str, where: str | os.PathLike[str]) -> tuple:
    """The in-memory cache key of a model source.

    Parameters
    ----------
    kind : str
        ``"file"`` or ``"folder"`` for a local checkpoint; anything else (a hub
        kind: ``"hub"``, ``"pretrained"``, an upstream name) is kept as is.
    where : str or path-like
        The file or folder path, or the hub name.

    Returns
    -------
    tuple
        ``(kind, where)``, followed for a file by its token, for a folder by
        the ``(name, token)`` of each file in it.

    Examples
    --------
    >>> source_key("hub", "microsoft/wavlm-base")
    ('hub', 'microsoft/wavlm-base')
    """
    text = os.fspath(where)
    if kind == "file":
        return kind, text, file_token(text)
    if kind == "folder":
        files = sorted(p for p in Path(text).iterdir() if p.is_file())
        return kind, text, tuple((p.name, file_token(p)) for p in files)
    return kind, text


def describe_error(exc: BaseException, limit: int = 200) -> str:
    """``"<type>: <message>"`` on one line, the message cut to ``limit`` characters.

    Examples
    --------
    >>> describe_error(OSError("no route\\n to host"))
    'OSError: no route to host'
    """
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:limit]}"


def fetch_failed(
    model: str, name: str, *, local: str, fetcher: str, exc: BaseException, offline: str
) -> str:
    """The message of a model found neither in a local folder nor through its hub.

    Parameters
    ----------
    model : str
        What it is (``"NeMo model"``, ``"S3PRL upstream"``).
    name : str
        The name the hub was asked for.
    local : str
        What was looked for locally (a file name, ``"folder"``).
    fetcher : str
        Who tried to download it (``"NeMo"``, ``"transformers"``).
    exc : BaseException
        Why the download failed.
    offline : str
        How to make it available offline (where to place which file).

    Returns
    -------
    str

    Examples
    --------
    >>> print(fetch_failed("NeMo model", "titanet_large", local="titanet_large.nemo",
    ...                    fetcher="NeMo", exc=OSError("offline"),
    ...                    offline="place titanet_large.nemo in /models (model_dir)"))
    cannot load the NeMo model 'titanet_large': no local titanet_large.nemo and NeMo could
    not fetch it (OSError: offline). Offline, place titanet_large.nemo in /models (model_dir)
    """
    return (
        f"cannot load the {model} {name!r}: no local {local} and {fetcher} could not fetch it "
        f"({describe_error(exc)}). Offline, {offline}"
    )
