"""The experiment file's schema: what keys a spec has and which values they take (pydantic models)."""

from __future__ import annotations

import typing
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from ..data import DATASETS
from ..metrics import claimable
from ..rungs import backend_of


class _Strict(BaseModel):
    # strict: `epochs = "10"` or `epochs = true` is a mistake to report, not a value to convert.
    model_config = ConfigDict(extra="forbid", strict=True)


class TrainSpec(_Strict):
    """How a PyTorch rung is trained (a scikit-learn rung rejects it). Defaults are the estimators'."""
    epochs: int = Field(200, ge=1)
    optimizer: Literal["sgd", "adam"] = "adam"
    lr: float = Field(0.01, gt=0)
    batch_size: Literal["full"] | typing.Annotated[int, Field(ge=1)] = "full"
    weight_decay: float = Field(0.0, ge=0)
    schedule: Literal["onecycle"] | None = None
    zero_grad: bool = True
    autocast: bool = False
    channels_last: bool = False

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


class RungSpec(_Strict):
    name: str = Field(pattern=r"^\S+$")
    features: Component | None = None
    model: Component
    train: TrainSpec | None = None
    # {"model.hidden": [[2], [3]]}: this rung stands for one rung per value (see expand_sweeps)
    sweep: dict[str, list] | None = None
    swept: dict | None = None  # set on each expanded rung: the values it was given


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

    @property
    def source(self) -> str:
        return self._source

    @property
    def task(self) -> str:
        return _dataset_task(self.dataset.name)

    def component_params(self, component: BaseModel) -> dict:
        return dict(component.model_extra or {})

    def backend(self, rung: RungSpec) -> str:
        return backend_of(rung.model.model_dump())

    def metrics(self, rung: RungSpec) -> list[str]:
        """The metric names a claim may use on this rung."""
        return claimable(self.task, self.backend(rung), rung.model.kind)

    def has_metric(self, rung: RungSpec, metric: str) -> bool:
        return metric in self.metrics(rung)


def _dataset_task(name: str) -> str:
    return DATASETS[name].task
