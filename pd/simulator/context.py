"""What every handler needs: the model, the member it answers as, and the fault knobs."""

from __future__ import annotations

from dataclasses import dataclass

from pd.simulator.faults import Faults
from pd.simulator.model import ClusterModel
from pd.simulator.topology import Member


@dataclass(slots=True)
class ApiContext:
    """The model behind the API, the PD member serving this port, and the injected faults."""

    model: ClusterModel
    member_name: str
    faults: Faults

    @property
    def member(self) -> Member:
        """The member this port belongs to."""
        return self.model.member(self.member_name)
