"""The configurable sales pipeline: ordered stages, each with a default win probability."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from services.sales.domain import InvalidInput


class Stage(BaseModel):
    """One open stage of the pipeline."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    probability: Decimal = Field(ge=0, le=1)


class Pipeline(BaseModel):
    """Stages in order (`CRM_SALES_PIPELINE__STAGES` as JSON); won and lost are outcomes, not stages."""

    stages: list[Stage] = Field(
        default_factory=lambda: [
            Stage(name="prospecting", probability=Decimal("0.1")),
            Stage(name="qualification", probability=Decimal("0.2")),
            Stage(name="proposal", probability=Decimal("0.5")),
            Stage(name="negotiation", probability=Decimal("0.7")),
            Stage(name="commit", probability=Decimal("0.9")),
        ],
        min_length=1,
    )

    def probability(self, stage: str) -> Decimal:
        """The default win probability of `stage`, or `InvalidInput` for an unknown stage."""
        for known in self.stages:
            if known.name == stage:
                return known.probability
        raise InvalidInput(f"unknown stage {stage!r}; stages are {', '.join(self.names)}")

    @property
    def names(self) -> list[str]:
        """Stage names in pipeline order."""
        return [s.name for s in self.stages]

    @property
    def first(self) -> str:
        """Where new opportunities start."""
        return self.stages[0].name
