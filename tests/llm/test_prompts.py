import pytest

from llm.prompts import render_prompt


def test_fields_are_filled_and_json_braces_survive(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text('Example: {"a": 1}\nName: {{name}}\nJSON: \n')
    assert render_prompt(path, name="Isabella") == 'Example: {"a": 1}\nName: Isabella\nJSON: '


def test_missing_field_is_an_error(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("Hello {{who}} from {{where}}\n")
    with pytest.raises(KeyError, match="where"):
        render_prompt(path, who="Klaus")
