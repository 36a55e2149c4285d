"""reverie.engine.schemas: the choice models' hand-written JSON schema."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from llm.structured import json_schema_for
from reverie.engine.schemas import choice_model

OPTION_LISTS = [
    ["home: kitchen", "Hobbs Cafe: cafe"],
    ["only one"],
    ['a "quoted" place', "ünïcode: café", "a"],
    ["a", "a", "b"],  # repeats are dropped, order kept
    [f"place {i}" for i in range(40)],
]


@pytest.mark.parametrize("options", OPTION_LISTS)
@pytest.mark.parametrize(("name", "field"), [("Place", "place"), ("Thing", "object"), ("Pick", "best_choice")])
def test_the_written_schema_is_the_one_pydantic_generates(options: list[str], name: str, field: str) -> None:
    model = choice_model(name, field, options)
    generated = BaseModel.model_json_schema.__func__(model)  # type: ignore[attr-defined]  # pydantic's own generator
    assert model.model_json_schema() == generated
    assert json_schema_for(model) == generated
    serialization = BaseModel.model_json_schema.__func__(model, mode="serialization")  # type: ignore[attr-defined]
    assert model.model_json_schema(mode="serialization") == serialization


def test_the_written_schema_is_a_copy_and_validation_still_checks_the_options() -> None:
    model = choice_model("Place", "place", ["kitchen", "garden"])
    model.model_json_schema()["properties"]["place"]["enum"].append("moon")
    assert model.model_json_schema()["properties"]["place"]["enum"] == ["kitchen", "garden"]
    assert model.model_validate({"place": "garden"}).place == "garden"  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="Input should be 'kitchen' or 'garden'"):
        model.model_validate({"place": "moon"})
