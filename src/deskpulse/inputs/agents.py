"""agents.csv: who is on the support team, their display name and team.

Columns: ``address`` (required), ``name``, ``team``, ``active`` (true/false, default true). An address listed
here is an agent when mail is classified, as if it were in ``helpdesk.agent_addresses``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskpulse.inputs.csvfile import read_csv

if TYPE_CHECKING:
    from deskpulse.config import Config
    from deskpulse.store import Store


@dataclass(frozen=True)
class AgentRecord:
    address: str
    name: str | None
    team: str | None
    active: bool


def read_agents(path: Path) -> list[AgentRecord]:
    agents: dict[str, AgentRecord] = {}
    for record in read_csv(path, ("address",), ("name", "team", "active")):
        address = record.text("address").lower()
        if "@" not in address:
            raise record.error("address", f"{address!r} is not an e-mail address")
        if address in agents:
            raise record.error("address", f"{address} is listed twice")
        agents[address] = AgentRecord(
            address, record.optional("name"), record.optional("team"), record.boolean("active", True)
        )
    return list(agents.values())


def agent_teams(store: Store, config: Config) -> Any:
    """An Ibis table (agent, team): from the agents file when there is one, else from the `agents` table."""
    if config.files.agents is None:
        agents = store.table("agents")
        return agents.select(agent=agents.address, team=agents.team)
    import pyarrow as pa

    records = read_agents(config.files.agents)
    rows = pa.table(
        {
            "agent": pa.array([r.address for r in records], pa.string()),
            "team": pa.array([r.team for r in records], pa.string()),
        }
    )
    return store.register("deskpulse_agent_teams", rows)
