"""Saving and loading models without pickle.

A keyguard model file is a skops archive holding ``{"card": {...}, "model": estimator}``. Loading
never unpickles: the file's object types are listed first (``skops.io.get_untrusted_types``),
anything outside ``TRUSTED_TYPES`` is refused, and the load itself passes that explicit list
(never ``trusted=True``). A pickle or joblib file, a zip of something else, or a card that is not
keyguard's raises :class:`~keyguard.errors.ModelError` with one line saying what to do.

The card says what the model is and how it was made: kind, feature names, classes, training
data (scenarios, seeds), metrics, keyguard and scikit-learn versions.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import skops.io as sio

from keyguard.errors import ModelError

FORMAT = "keyguard-model"
FORMAT_VERSION = 1
SUFFIX = ".skops"

#: the only object types a keyguard model file may contain beyond skops' own defaults
TRUSTED_TYPES: list[str] = [
    "keyguard.models.burst.BurstClassifier",
    "keyguard.models.identity.IdentityFingerprintModel",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
]

_PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


def save_model(model: Any, path: str | Path, card: dict) -> Path:
    """Write ``model`` with its ``card`` (a JSON-able dict) to ``path`` (``.skops``)."""
    p = Path(path)
    full = dict(card)
    full.setdefault("format", FORMAT)
    full.setdefault("format_version", FORMAT_VERSION)
    full.setdefault("estimator", type(model).__name__)
    sio.dump({"card": full, "model": model}, p, compression=zipfile.ZIP_DEFLATED)
    return p


def load_model(path: str | Path) -> tuple[Any, dict]:
    """(model, card) from a keyguard model file; anything else raises ModelError."""
    p = Path(path)
    if not p.is_file():
        raise ModelError("model file not found", p, "give a path written by `keyguard train`")
    with open(p, "rb") as f:
        head = f.read(4)
    if head[:2] in _PICKLE_MAGIC:
        raise ModelError("pickle files are refused: loading one can run any code", p,
                         "use a .skops model written by `keyguard train`")
    if not zipfile.is_zipfile(p):
        raise ModelError("not a keyguard model file (not a skops archive)", p,
                         "use a .skops model written by `keyguard train`")
    try:
        untrusted = sio.get_untrusted_types(file=p)
    except Exception as e:  # a zip that is not a skops archive
        raise ModelError(f"not a keyguard model file ({type(e).__name__})", p,
                         "use a .skops model written by `keyguard train`") from None
    foreign = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if foreign:
        raise ModelError(f"refused: the file holds types keyguard does not trust "
                         f"({', '.join(foreign[:3])}{'...' if len(foreign) > 3 else ''})", p,
                         "only models written by `keyguard train` load")
    try:
        obj = sio.load(p, trusted=[t for t in untrusted if t in TRUSTED_TYPES])
    except Exception as e:
        raise ModelError(f"cannot read the model ({type(e).__name__}: {e})", p) from None
    if not isinstance(obj, dict) or set(obj) != {"card", "model"} or \
            not isinstance(obj["card"], dict) or obj["card"].get("format") != FORMAT:
        raise ModelError("not a keyguard model file (no keyguard model card)", p,
                         "use a .skops model written by `keyguard train`")
    version = obj["card"].get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelError(f"model format {version!r} is newer than this keyguard reads "
                         f"({FORMAT_VERSION})", p, "upgrade keyguard")
    card = obj["card"]
    names = card.get("features")
    if names is not None:
        from keyguard.features.vector import FEATURE_NAMES
        # features are only appended, so a model of an earlier set reads its prefix
        if list(names) != list(FEATURE_NAMES)[:len(names)] or not names:
            raise ModelError("the model was trained on another feature set than this keyguard "
                             "measures", p, "retrain it with `keyguard train`")
    return obj["model"], card


#: the burst classifier shipped with the package (written by `keyguard train`)
DEFAULT_MODEL = Path(__file__).resolve().with_name("default") / "burst.skops"


def load_burst_model(path: str | Path | None = None) -> Any:
    """The burst classifier at ``path``, or the shipped one when ``path`` is None (None when the
    package ships none). A file holding another kind of model raises ModelError."""
    if path is None:
        if not DEFAULT_MODEL.is_file():
            return None
        path = DEFAULT_MODEL
    model, card = load_model(path)
    from keyguard.models.burst import BurstClassifier
    if not isinstance(model, BurstClassifier):
        raise ModelError(f"holds a {type(model).__name__}, not a burst classifier", path,
                         "give a model written by `keyguard train`")
    model.prepare()  # part of loading: the first burst (a live alert) does not wait for it
    return model


def default_models() -> dict:
    """The shipped models by engine role (``{"burst": classifier}``), or {} when the package
    has none."""
    model = load_burst_model()
    return {} if model is None else {"burst": model}
