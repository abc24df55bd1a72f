"""Predictions of a trained pipeline: per clip, and over time on long recordings."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import ParameterError

__all__ = ["audio_files", "plot_timeline", "predict_files", "predict_timeline"]

#: audio file suffixes looked for in a folder (those soundfile reads)
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".mp3", ".opus", ".au")
#: files read and embedded together (memory is bounded by one chunk)
CHUNK = 64


def audio_files(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Expand files and folders into a list of audio files.

    Parameters
    ----------
    paths : iterable of path-like
        Files (kept as given, whatever their suffix) and folders (every file
        below them with an audio suffix, sorted by path).

    Returns
    -------
    list of str
        The files, in the order given (each folder's files sorted).

    Raises
    ------
    ParameterError
        If a path does not exist, or nothing is found.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sertools.persist import audio_files
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ("b.wav", "a.flac", "notes.txt"):
    ...     _ = (Path(tmp.name) / name).write_bytes(b"")
    >>> [Path(p).name for p in audio_files([tmp.name])]
    ['a.flac', 'b.wav']
    >>> tmp.cleanup()
    """
    out: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(
                str(f)
                for f in path.rglob("*")
                if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES
            )
            if not found:
                raise ParameterError(
                    f"folder {path} holds no audio files ({', '.join(AUDIO_SUFFIXES)})"
                )
            out += found
        elif path.exists():
            out.append(str(p))
        else:
            raise ParameterError(f"{path} does not exist; expected audio files or folders")
    if not out:
        raise ParameterError("no audio files given")
    return out


def _steps(model: Any) -> tuple[Any, Any, Any]:
    """(feature part, embedder, classifier) of a fitted pipeline."""
    from sklearn.pipeline import Pipeline

    if not isinstance(model, Pipeline) or len(model.steps) < 2:
        raise ParameterError(
            f"expected a fitted Pipeline (embedder, then classifier), got {type(model).__name__}"
        )
    return model[:-1], model.steps[0][1], model.steps[-1][1]


def _columns(classes: Sequence[Any]) -> list[str]:
    return [f"p_{c}" for c in classes]


def _classify(model: Any, waves: list[np.ndarray], rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities of waveforms at ``rate`` (one embedding pass)."""
    features, embedder, clf = _steps(model)
    embedder.set_params(sampling_rate=int(rate))  # a live parameter: no refit
    Z = features.transform(waves)
    return np.asarray(clf.predict(Z)), np.asarray(clf.predict_proba(Z), dtype=np.float64)


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def predict_files(
    model: Any,
    files: Iterable[str | os.PathLike[str]],
    *,
    verbose: bool = False,
) -> pd.DataFrame:
    """Label every clip: one row per file, with every class probability.

    Files are read and checked one by one (:func:`sertools.audio.read_audio`),
    then embedded together, a chunk at a time, through the model's embedder
    (its batching and cache). A file that cannot be read or embedded gets a
    row with its error; the others are kept.

    Parameters
    ----------
    model : Pipeline
        A fitted pipeline (embedder, then a classifier with ``predict_proba``),
        e.g. from :func:`~sertools.persist.load_model`.
    files : iterable of path-like
        Audio files and folders (see :func:`audio_files`).
    verbose : bool, default=False
        A progress bar on a terminal.

    Returns
    -------
    pandas.DataFrame
        Columns ``file``, ``label`` (the classifier's prediction),
        ``p_<class>`` for each class of the model (rows sum to 1) and
        ``error`` (empty when the file was labelled; else the reason, with
        ``label`` empty and the probabilities NaN). In input order.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import soundfile as sf
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.persist import predict_files, train_model
    >>> corpus = make_synthetic_corpus(n_per_class=6, random_state=0)
    >>> pipe = train_model(corpus, feature="mfcc", classifier="svm")
    >>> tmp = tempfile.TemporaryDirectory()
    >>> good = Path(tmp.name) / "clip.wav"
    >>> sf.write(good, corpus.data[0], corpus.sampling_rate)
    >>> bad = Path(tmp.name) / "broken.wav"
    >>> _ = bad.write_bytes(b"RIFF....WAVE")
    >>> table = predict_files(pipe, [good, bad])
    >>> table.columns.tolist()
    ['file', 'label', 'p_angry', 'p_happy', 'p_neutral', 'p_sad', 'error']
    >>> table.error.str.len().gt(0).tolist()
    [False, True]
    >>> tmp.cleanup()
    """
    from ..audio import read_audio
    from ..utils._progress import progress_bar

    _, _, clf = _steps(model)
    classes = list(clf.classes_)
    paths = audio_files(files)
    labels: list[Any] = [""] * len(paths)
    proba = np.full((len(paths), len(classes)), np.nan)
    errors = [""] * len(paths)
    with progress_bar(total=len(paths), desc="predict", unit="clip", enabled=verbose) as bar:
        for start in range(0, len(paths), CHUNK):
            by_rate: dict[int, list[tuple[int, np.ndarray]]] = {}
            for i in range(start, min(start + CHUNK, len(paths))):
                try:
                    wave, sr = read_audio(paths[i])
                except Exception as exc:  # one bad file must not stop the others
                    errors[i] = _one_line(exc)
                    continue
                by_rate.setdefault(sr, []).append((i, wave))
            for sr, items in by_rate.items():
                _label_group(model, items, sr, labels, proba, errors)
            bar.update(min(CHUNK, len(paths) - start))
    table = pd.DataFrame({"file": paths, "label": labels})
    for j, col in enumerate(_columns(classes)):
        table[col] = proba[:, j]
    table["error"] = errors
    return table


def _label_group(
    model: Any,
    items: list[tuple[int, np.ndarray]],
    sr: int,
    labels: list[Any],
    proba: np.ndarray,
    errors: list[str],
) -> None:
    """Label clips of one rate together; on a failure, one at a time to isolate it."""
    try:
        y, p = _classify(model, [w for _, w in items], sr)
    except KeyboardInterrupt:
        raise
    except Exception:
        if len(items) == 1:
            i = items[0][0]
            try:
                y, p = _classify(model, [items[0][1]], sr)
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                errors[i] = _one_line(exc)
                return
        else:
            for item in items:
                _label_group(model, [item], sr, labels, proba, errors)
            return
    for k, (i, _) in enumerate(items):
        labels[i] = y[k]
        proba[i] = p[k]


def window_starts(n_samples: int, *, window: int, hop: int) -> list[int]:
    """Starts of the sliding windows over ``n_samples`` (the last one ends at the end).

    Examples
    --------
    >>> window_starts(10, window=4, hop=3)
    [0, 3, 6]
    >>> window_starts(11, window=4, hop=3)  # a last window flush with the end
    [0, 3, 6, 7]
    >>> window_starts(3, window=4, hop=3)  # shorter than a window: the whole clip
    [0]
    """
    if n_samples <= window:
        return [0]
    starts = list(range(0, n_samples - window + 1, hop))
    if starts[-1] + window < n_samples:
        starts.append(n_samples - window)
    return starts


def predict_timeline(
    model: Any,
    file: str | os.PathLike[str] | np.ndarray,
    *,
    window: float = 3.0,
    hop: float = 1.0,
    sampling_rate: int | None = None,
) -> pd.DataFrame:
    """Predict over a sliding window: emotion over time in a long recording.

    The recording is cut into windows of ``window`` seconds every ``hop``
    seconds (a last window ends at the end of the recording; one shorter than
    a window is one window). The windows go through the model's embedder as
    waveforms, together (its batching and cache), then the classifier.

    Parameters
    ----------
    model : Pipeline
        A fitted pipeline (embedder, then a classifier with ``predict_proba``).
    file : path-like or ndarray of shape (n_samples,)
        An audio file, or a waveform (with ``sampling_rate``).
    window : float, default=3.0
        Window length in seconds.
    hop : float, default=1.0
        Step between window starts in seconds.
    sampling_rate : int, optional
        Rate of ``file`` when it is an array.

    Returns
    -------
    pandas.DataFrame
        One row per window: ``start``, ``end`` (seconds), ``label`` and
        ``p_<class>`` for each class.

    Raises
    ------
    ParameterError
        If the file cannot be read, or ``window``/``hop`` are not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.persist import predict_timeline, train_model
    >>> corpus = make_synthetic_corpus(n_per_class=6, random_state=0)
    >>> pipe = train_model(corpus, feature="mfcc", classifier="svm")
    >>> long = np.concatenate(corpus.data[:6])  # about 9 s
    >>> timeline = predict_timeline(pipe, long, sampling_rate=corpus.sampling_rate,
    ...                             window=3, hop=1)
    >>> timeline.columns.tolist()
    ['start', 'end', 'label', 'p_angry', 'p_happy', 'p_neutral', 'p_sad']
    >>> timeline[["start", "end"]].head(3).to_numpy().tolist()
    [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    """
    from ..audio import read_audio

    for name, value in (("window", window), ("hop", hop)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
            raise ParameterError(f"{name}={value!r}: expected a positive number of seconds")
    if isinstance(file, np.ndarray):
        if sampling_rate is None:
            raise ParameterError("predict_timeline: a waveform needs sampling_rate=")
        wave, sr = np.asarray(file, dtype=np.float32), int(sampling_rate)
    else:
        wave, sr = read_audio(file)
    n_win = max(1, round(window * sr))
    n_hop = max(1, round(hop * sr))
    starts = window_starts(len(wave), window=n_win, hop=n_hop)
    windows = [wave[s : s + n_win] for s in starts]
    _, _, clf = _steps(model)
    y, p = _classify(model, windows, sr)
    table = pd.DataFrame(
        {
            "start": [round(s / sr, 3) for s in starts],
            "end": [round(min(s + n_win, len(wave)) / sr, 3) for s in starts],
            "label": y,
        }
    )
    for j, col in enumerate(_columns(clf.classes_)):
        table[col] = p[:, j]
    return table


def plot_timeline(
    timeline: pd.DataFrame, path: str | os.PathLike[str] | None = None, *, title: str = ""
) -> Any:
    """Plot the probability of each class over time (window centres).

    Parameters
    ----------
    timeline : pandas.DataFrame
        From :func:`predict_timeline` (``start``, ``end``, ``p_<class>``).
    path : str or path-like, optional
        Save the figure there (PNG at 120 dpi) and close it.
    title : str, default=""
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: a line per class, probability against the window centre.

    Examples
    --------
    >>> import pandas as pd
    >>> from sertools.persist import plot_timeline
    >>> tl = pd.DataFrame({"start": [0.0, 1.0], "end": [3.0, 4.0], "label": ["a", "b"],
    ...                    "p_a": [0.8, 0.3], "p_b": [0.2, 0.7]})
    >>> fig = plot_timeline(tl, title="demo")
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['a', 'b']
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    centre = (timeline["start"].to_numpy() + timeline["end"].to_numpy()) / 2
    fig, ax = plt.subplots(figsize=(10, 3.6))
    for col in [c for c in timeline.columns if c.startswith("p_")]:
        ax.plot(centre, timeline[col].to_numpy(), marker=".", label=col[2:])
    ax.set_xlabel("time (s), window centre")
    ax.set_ylabel("probability")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig
