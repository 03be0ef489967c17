"""What the report API tests share: the people and enterprises they import into the session's
platform (an upsert, so each module may import them), and the shape every refusal has."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .casebook import id_number, uscc
from .conftest import import_jsonl
from .platform_client import ServiceProcess


def api_people(
    platform: ServiceProcess, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Two companies; 王五 represents both, 赵六 only the second; one long-term card holder."""
    a, b = uscc("gansu", 9001), uscc("gansu", 9002)
    outside = uscc("huzhou", 9003)
    lines = [
        {
            "type": "entity",
            "uscc": a,
            "name": "兰州甲测试有限公司",
            "kind": "company",
            "region": "gansu",
        },
        {
            "type": "entity",
            "uscc": b,
            "name": "兰州乙测试合作社",
            "kind": "farmer_cooperative",
            "region": "gansu",
        },
        {
            "type": "entity",
            "uscc": outside,
            "name": "湖州丙测试有限公司",
            "kind": "company",
            "region": "huzhou",
        },
        {
            "type": "person",
            "id_number": id_number("gansu", 901),
            "name": "王五",
            "roles": [
                {"uscc": a, "role": "legal_representative"},
                {"uscc": b, "role": "agent"},
                {"uscc": outside, "role": "agent"},
            ],
        },
        {
            "type": "person",
            "id_number": id_number("gansu", 902),
            "name": "赵六",
            "roles": [{"uscc": b, "role": "legal_representative"}],
        },
        {
            "type": "record",
            "record_id": "API-REC-1",
            "uscc": a,
            "domain": "市场监管",
            "kind": "administrative_penalty",
            "date": "2023-06-01",
            "agency": "兰州市市场监督管理局",
            "document_no": "兰市监罚〔2023〕77号",
            "title": "销售不合格商品",
            "procedure": "general",
            "decision": "punish",
            "repaired_on": None,
            "list_name": None,
            "classified": False,
        },
    ]
    import_jsonl(
        platform,
        tmp_path_factory.mktemp("people") / "p.jsonl",
        [json.dumps(x, ensure_ascii=False) for x in lines],
    )
    return {
        "a": a,
        "b": b,
        "outside": outside,
        "wang": id_number("gansu", 901),
        "zhao": id_number("gansu", 902),
    }


def error_code(r: httpx.Response) -> str:
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"])  # a Chinese message
    return text_of(body["error"], "code")


def text_of(answer: dict[str, Any], field: str) -> str:
    """A field of a JSON answer that must be text (a session token, an error code)."""
    value = answer[field]
    assert isinstance(value, str), answer
    return value
