import pytest

from llm.errors import LLMConfigError
from llm.spec import parse_embedding_spec, parse_model_spec


def test_parses_backend_target_and_options():
    spec = parse_model_spec("llama_cpp:/models/x.gguf?n_ctx=2048&threads=4")
    assert (spec.backend, spec.target) == ("llama_cpp", "/models/x.gguf")
    assert spec.option_int("n_ctx", 0) == 2048
    assert spec.option_int("missing", 7) == 7


def test_bare_gguf_path_means_llama_cpp():
    spec = parse_model_spec("/models/tiny.gguf")
    assert spec.backend == "llama_cpp" and spec.target == "/models/tiny.gguf"


def test_openai_model_names_keep_colons():
    spec = parse_model_spec("openai:qwen2.5:7b")
    assert spec.backend == "openai" and spec.target == "qwen2.5:7b"


@pytest.mark.parametrize("raw", ["gpt4", "mlx:llama", "", "llama_cpp:"])
def test_bad_model_specs_name_the_setting_and_the_fix(raw):
    with pytest.raises(LLMConfigError) as err:
        parse_model_spec(raw)
    message = str(err.value)
    assert "LLM_MODEL" in message and "llama_cpp:bundled" in message
    assert "\n" not in message


def test_bad_option_value_is_reported():
    with pytest.raises(LLMConfigError, match="n_ctx"):
        parse_model_spec("llama_cpp:bundled?n_ctx=lots").option_int("n_ctx", 1)


def test_embedding_specs():
    assert parse_embedding_spec("sentence_transformers:bundled").backend == "sentence_transformers"
    assert parse_embedding_spec("openai:text-embedding-3-small").target == "text-embedding-3-small"
    with pytest.raises(LLMConfigError, match="EMBEDDING_MODEL"):
        parse_embedding_spec("word2vec:x")
