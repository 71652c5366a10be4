"""Problems are data: where a bad input was found, what it held and why it was refused."""

from __future__ import annotations

from pydantic import BaseModel


class Problem(BaseModel):
    """One refused input. `source` is a tab name (`DQ`, `Rider registry`…), `zwiftpower`, `zwift` or `season`."""

    source: str
    why: str
    event_id: int | None = None
    row: int | None = None
    column: str = ""
    value: str = ""

    def __str__(self) -> str:
        where = [self.source]
        if self.event_id is not None:
            where.append(f"event {self.event_id}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        shown = f" (value {self.value!r})" if self.value else ""
        return f"{', '.join(where)}: {self.why}{shown}"
