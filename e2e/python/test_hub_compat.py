"""The official huggingface_hub client, unchanged, against hfb's Hub-compatible routes."""

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError


@pytest.fixture()
def api(hfb_server):
    return HfApi(endpoint=hfb_server, token=False)


def test_list_models_searches_the_catalog(api):
    found = list(api.list_models(search="MiniLM"))
    assert [m.id for m in found] == ["sentence-transformers/all-MiniLM-L6-v2"]
    assert found[0].pipeline_tag == "sentence-similarity"
    assert found[0].downloads == 81234567


def test_filters_sort_and_limit(api):
    mit = list(api.list_models(filter="license:mit"))
    assert [m.id for m in mit] == ["intfloat/multilingual-e5-small"]
    by_likes = list(api.list_models(sort="likes", limit=2))
    assert [m.id for m in by_likes] == ["meta-llama/Llama-3.1-8B-Instruct", "sentence-transformers/all-MiniLM-L6-v2"]
    tasks = {m.id for m in api.list_models(pipeline_tag="sentence-similarity")}
    assert tasks == {"sentence-transformers/all-MiniLM-L6-v2", "intfloat/multilingual-e5-small"}
    assert [m.id for m in api.list_models(author="openai")] == ["openai/whisper-small"]


def test_listing_follows_link_pagination(api):
    # The server pages by 2 here (HFB_HUB_PAGE_SIZE); without a limit the client follows
    # `Link: rel="next"` until the last page.
    all_models = list(api.list_models())
    assert len(all_models) == 6
    assert all_models[0].id == "sentence-transformers/all-MiniLM-L6-v2"


def test_model_info_with_files_and_card_data(api):
    info = api.model_info("sentence-transformers/all-MiniLM-L6-v2")
    assert info.id == "sentence-transformers/all-MiniLM-L6-v2"
    assert info.sha == "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"
    assert "model.safetensors" in [s.rfilename for s in info.siblings]
    assert info.card_data is not None and info.card_data.license == "apache-2.0"
    assert info.gated is False
    gated = api.model_info("meta-llama/Llama-3.1-8B-Instruct")
    assert gated.gated == "manual"


def test_unknown_models_raise_repository_not_found(api):
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("nobody/nothing-here")
