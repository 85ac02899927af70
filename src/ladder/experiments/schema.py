"""The experiment file's schema: what keys a spec has and which values they take (pydantic models)."""

from __future__ import annotations

import typing
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from ..data import task_of
from ..metrics import claimable, probe_key
from ..rungs import backend_of


class _Strict(BaseModel):
    # strict: `epochs = "10"` or `epochs = true` is a mistake to report, not a value to convert.
    model_config = ConfigDict(extra="forbid", strict=True)


class AugmentSpec(_Strict):
    """Random moves of every training image, drawn afresh for each batch (image datasets only)."""
    shift: float = Field(0.0, ge=0)  # up to this many pixels in each direction
    rotate: float = Field(0.0, ge=0, le=180)  # up to ± this many degrees


class TrainSpec(_Strict):
    """How a PyTorch rung is trained (a scikit-learn rung rejects it). Defaults are the estimators'."""
    epochs: int = Field(200, ge=1)
    optimizer: Literal["sgd", "adam"] = "adam"
    lr: float = Field(0.01, gt=0)
    batch_size: Literal["full"] | typing.Annotated[int, Field(ge=1)] = "full"
    weight_decay: float = Field(0.0, ge=0)
    l1: float = Field(0.0, ge=0)  # L1's rate: l1·sign(w) added to each weight's gradient
    schedule: Literal["onecycle"] | None = None
    zero_grad: bool = True
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    autocast: bool = False
    channels_last: bool = False
    augment: AugmentSpec | None = None

    def estimator_params(self) -> dict:
        """The settings the file gives, as estimator parameters (the rest keep their defaults)."""
        params = self.model_dump(exclude_unset=True)
        if params.get("batch_size") == "full":
            params["batch_size"] = None
        return params


class Component(BaseModel):
    """{kind = "…", **params}: a feature map or a model."""
    model_config = ConfigDict(extra="allow")
    kind: str


class DatasetSpec(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str


class ProbeSpec(_Strict):
    """Test images moved before scoring: a score per shift (pixels to the right) and per rotation."""
    shift: list[typing.Annotated[int, Field(ge=0)]] = [0, 1, 2, 3, 4]
    rotate: list[typing.Annotated[float, Field(ge=0, le=180)]] = [0, 10, 20, 30]
    n_test: int | None = Field(None, ge=1)  # probe only the first n_test test images

    def keys(self) -> list[str]:
        """The metric names of the probes: shift_3_accuracy, rotate_20_accuracy, …"""
        return [probe_key("shift", s) for s in self.shift] + [probe_key("rotate", r) for r in self.rotate]


class RungSpec(_Strict):
    name: str = Field(pattern=r"^\S+$")
    features: Component | None = None
    model: Component | None = None  # required unless same_as gives it
    train: TrainSpec | None = None
    # {"model.hidden": [[2], [3]]}: this rung stands for one rung per value (see expand_sweeps)
    sweep: dict[str, list] | None = None
    swept: dict | None = None  # set on each expanded rung: the values it was given
    # "mnist:cnn": this rung is that rung (its φ, model and training, copied when the file is read);
    # when both experiments run together, the model fitted there is scored here, not trained again.
    same_as: str | None = None


class ClaimSpec(_Strict):
    text: str
    check: str


class ExperimentSpec(_Strict):
    _source: str = PrivateAttr("<spec>")  # the file it came from, for error messages
    name: str
    title: str = ""
    story: str = ""
    dataset: DatasetSpec
    rungs: list[RungSpec] = Field(min_length=1)
    claims: list[ClaimSpec] = []
    probes: ProbeSpec | None = None

    @property
    def source(self) -> str:
        return self._source

    @property
    def task(self) -> str:
        return task_of(self.dataset.name, self.dataset.model_extra or {})

    def component_params(self, component: BaseModel) -> dict:
        return dict(component.model_extra or {})

    def backend(self, rung: RungSpec) -> str:
        return backend_of(rung.model.model_dump())

    def metrics(self, rung: RungSpec) -> list[str]:
        """The metric names a claim may use on this rung."""
        probes = self.probes.keys() if self.probes else []
        return claimable(self.task, self.backend(rung), rung.model.kind) + probes

    def has_metric(self, rung: RungSpec, metric: str) -> bool:
        return metric in self.metrics(rung)
