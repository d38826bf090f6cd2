"""The data contract (conf/base/parameters_data_contract.yml), typed.

Each landing source's columns, in landing-file order, with their type, range, accepted
values, PII handling and model-feature role, and each source's key: written once. Kedro
validates the YAML against :class:`DataContract` before any node runs (the cleaning nodes
take ``params:data_contract``). The same file is also a globals file (settings.py), so the
catalog's landing columns, the data-quality checks and the feature lists interpolate it
through the resolvers below.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

Number = int | float
# id: text compared exactly; text: free text; date / timestamp: in the contract's formats;
# integer / decimal: numbers (BIGINT / DOUBLE once typed); category: text upper-cased, one
# of accepted_values; label: the 0/1 outcome, one of its spellings.
ColumnType = Literal[
    "id", "text", "date", "timestamp", "integer", "decimal", "category", "label"
]
NUMBER_TYPES = ("integer", "decimal")
# How a PII column leaves raw: dropped; a keyed SHA-256 of the trimmed, lower-cased text
# (<NAME>_HASH); of its digits only (<NAME>_HASH); or reduced to the year (BIRTH_YEAR).
Pii = Literal["drop", "hash", "hash_digits", "birth_year"]


class ColumnContract(BaseModel):
    """One landing column. A rule left out (null) is a rule the column does not have."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ColumnType
    required: bool = False  # a missing value rejects the row (ids are always required)
    range: tuple[Number, Number] | None = None  # inclusive; integer and decimal columns
    year_range: tuple[int, int] | None = None  # inclusive, on a date's year
    accepted_values: list[str] | None = Field(default=None, min_length=1)
    spellings: dict[Literal["0", "1"], list[str]] | None = (
        None  # label: accepted spellings
    )
    pii: Pii | None = None
    feature: Literal["numeric", "categorical"] | None = None  # a model feature as it is

    @model_validator(mode="after")
    def _fits_its_type(self) -> ColumnContract:
        rules = {
            "range": (self.range, NUMBER_TYPES),
            "year_range": (self.year_range, ("date",)),
            "accepted_values": (self.accepted_values, ("category",)),
            "spellings": (self.spellings, ("label",)),
        }
        for name, (value, types) in rules.items():
            if value is not None and self.type not in types:
                raise ValueError(f"{name} is for a column of type {' or '.join(types)}")
        for name, bounds in (("range", self.range), ("year_range", self.year_range)):
            if bounds is not None and bounds[0] > bounds[1]:
                raise ValueError(
                    f"{name} {list(bounds)}: the low bound is above the high one"
                )
        if self.type == "category" and self.accepted_values is None:
            raise ValueError("a category column needs accepted_values")
        if self.accepted_values and any(v != v.upper() for v in self.accepted_values):
            raise ValueError(
                "accepted_values are upper-case (values are compared upper-cased)"
            )
        if self.type == "label" and set(self.spellings or {}) != {"0", "1"}:
            raise ValueError("a label column needs spellings for '0' and '1'")
        if self.pii == "birth_year" and self.type != "date":
            raise ValueError("pii birth_year is for a date column")
        return self


class SourceContract(BaseModel):
    """One landing source: its key and its columns in landing-file order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    columns: dict[str, ColumnContract] = Field(min_length=1)

    @model_validator(mode="after")
    def _key_is_an_id_column(self) -> SourceContract:
        if self.key not in self.columns or self.columns[self.key].type != "id":
            raise ValueError(f"key {self.key!r} must be one of its columns, of type id")
        if bad := [c for c in self.columns if c != c.lower() or not c.isidentifier()]:
            raise ValueError(f"column names are lower-case identifiers: {bad}")
        return self

    @property
    def landing_columns(self) -> list[str]:
        """The landing files' header, in order."""
        return list(self.columns)

    def of_type(self, *types: str) -> list[str]:
        """Upper-case names of the columns of these types, in landing order (as in RAW)."""
        return [n.upper() for n, c in self.columns.items() if c.type in types]

    def column(self, name: str) -> ColumnContract:
        """The contract of one column, by its RAW (upper-case) or landing name."""
        return self.columns[name.lower()]

    def features(self, kind: str | None = None) -> list[str]:
        """Upper-case names of the columns that are model features (of ``kind`` if given)."""
        return [
            n.upper()
            for n, c in self.columns.items()
            if c.feature is not None and kind in (None, c.feature)
        ]


Source = Literal["applicants", "applications", "bureau_events", "loan_outcomes"]
SOURCES = get_args(Source)


class DataContract(BaseModel):
    """The formats shared by every source, and each source's contract."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id_pattern: str = Field(min_length=1)  # every id column: a regular expression
    id_rule: str = Field(min_length=1)  # the same rule in words, for reject reasons
    date_format: str = Field(min_length=1)  # Snowflake format of every date column
    timestamp_format: str = Field(min_length=1)  # and of every timestamp column
    sources: dict[Source, SourceContract]

    @model_validator(mode="after")
    def _every_source(self) -> DataContract:
        if missing := [s for s in SOURCES if s not in self.sources]:
            raise ValueError(f"sources: missing {missing}")
        return self


# ----------------------------------------------------------------------------- resolvers
# For conf/: the contract is a globals file too, so YAML elsewhere reads it as
# ${globals:data_contract...}; these turn a source's contract into the lists they need.


def _plain(node: Any) -> Any:
    """An OmegaConf node (or a plain value) as plain Python."""
    from omegaconf import OmegaConf  # noqa: PLC0415 - only when config is resolved

    return OmegaConf.to_container(node) if OmegaConf.is_config(node) else node


def landing_columns(source: Any) -> list[str]:
    """``${landing_columns:${globals:data_contract.sources.X}}``: the landing header of X."""
    return SourceContract.model_validate(_plain(source)).landing_columns


def features(source: Any, kind: str | None = None) -> list[str]:
    """``${features:<source>[,numeric|categorical]}``: X's model features, upper-case."""
    return SourceContract.model_validate(_plain(source)).features(kind)


def concat(*lists: Any) -> list[Any]:
    """``${concat:<list>,<list>...}``: the lists one after the other."""
    return [item for values in lists for item in _plain(values)]


RESOLVERS = {"landing_columns": landing_columns, "features": features, "concat": concat}
