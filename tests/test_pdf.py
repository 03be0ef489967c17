"""The report PDF, checked with the real poppler tools (pdffonts, pdftotext, pdfinfo)."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import os
import pickle
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from report_service import pdf
from report_service.document import DomainResult, RecordLine, ReportDocument
from report_service.profiles import load_profile
from report_service.rules import assemble

from .test_rules import Rec

ROOT = Path(__file__).resolve().parents[1]

DOMAIN_NAMES = (
    "市场监管", "税务", "生态环境", "人力资源和社会保障", "住房和城乡建设", "交通运输",
    "应急管理（安全生产）", "自然资源", "文化和旅游", "卫生健康", "医疗保障", "药品监督管理",
    "农业农村", "水利", "商务", "教育", "科学技术", "工业和信息化", "民政", "司法行政",
    "财政", "统计", "审计", "海关", "消防救援", "广播电视", "新闻出版", "知识产权",
    "粮食和物资储备", "林业和草原", "能源", "邮政", "气象", "地震", "人民防空", "体育",
    "退役军人事务", "档案", "城市管理综合执法", "公共资源交易",
)  # fmt: skip

LONG_AGENCY = (
    "兰州市城关区住房和城乡建设局（兰州市城关区人民防空办公室、兰州市城关区城市管理综合行政执法局"
    "、兰州市城关区园林绿化和市容环境卫生管理中心）"
)
LONG_TITLE = (
    "关于甘肃某某建设工程集团有限公司在兰州新区某某产业园二期标准化厂房及配套基础设施建设项目施工过程中"
    "未按照规定采取扬尘污染防治措施、未对裸露地面和易产生扬尘的物料进行覆盖且经责令改正后逾期仍未改正的"
    "行政处罚决定"
)

SHORT_TITLES = ("未按规定期限公示企业年度报告", "未按规定办理纳税申报", "超标排放大气污染物")


def _record(n: int) -> RecordLine:
    kinds = (
        ("administrative_penalty", "行政处罚", None),
        ("serious_dishonesty", "严重失信主体名单", "重大税收违法失信主体名单"),
        ("business_abnormality", "经营异常名录", None),
    )
    kind, label, list_name = kinds[n % 3]
    return RecordLine(
        record_id=f"rec-{n:04d}",
        kind=kind,
        kind_label=label,
        date=dt.date(2021, 1, 1) + dt.timedelta(days=17 * n),
        agency=LONG_AGENCY if n % 4 == 1 else "甘肃省市场监督管理局",
        document_no=f"兰城建罚〔2023〕{1000 + n}号",
        # The ASCII end marker never wraps, so finding it tells on which page the record ends.
        title=f"{LONG_TITLE if n % 5 == 1 else SHORT_TITLES[n % 3]}END{n:04d}",
        repaired_on=dt.date(2024, 3, 1) if n % 5 == 0 else None,
        list_name=list_name,
    )


def build_document(domains: int = 40, records: int = 60, per_domain: int = 3) -> ReportDocument:
    """A report of `domains` domains; the first records // per_domain domains hold the records."""
    recs = [_record(n) for n in range(1, records + 1)]
    doms = []
    for i in range(domains):
        mine = tuple(recs[i * per_domain : (i + 1) * per_domain])
        doms.append(
            DomainResult(code=f"d{i:02d}", name=f"{DOMAIN_NAMES[i % 40]}领域", records=mine)
        )
    return ReportDocument(
        report_id="GS-20250630-000123",
        verification_code="K7Q2-9XPM-4RTA",
        verify_url="https://credit.example.gov.cn/v1/verify/K7Q2-9XPM-4RTA",
        title="专用信用报告",
        platform_name="信用中国（甘肃）",
        region_name="甘肃省",
        entity_name="甘肃某某建设工程集团有限公司兰州新区分公司",
        uscc="91620100MA71ABCD2X",
        entity_kind_label="有限责任公司分公司",
        period_from=dt.date(2021, 1, 1),
        period_to=dt.date(2025, 6, 30),
        issued_at=dt.datetime(2025, 6, 30, 6, 5, 9, tzinfo=dt.UTC),  # 14:05 in Beijing
        valid_until=dt.date(2025, 7, 30),
        domains=tuple(doms),
    )


def small_document() -> ReportDocument:
    return build_document(domains=2, records=0)


def large_document() -> ReportDocument:
    return build_document(domains=40, records=60, per_domain=3)


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def small_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "small.pdf"
    path.write_bytes(pdf.render_report_pdf(small_document()))
    return path


@pytest.fixture(scope="module")
def large_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "large.pdf"
    path.write_bytes(pdf.render_report_pdf(large_document()))
    return path


def _pages(path: Path) -> int:
    found = re.search(r"^Pages:\s+(\d+)$", _run("pdfinfo", str(path)), re.M)
    assert found is not None, path
    return int(found.group(1))


def _text_pages(path: Path) -> list[str]:
    return _run("pdftotext", "-layout", str(path), "-").split("\f")[:-1]


def _fonts(path: Path) -> list[dict[str, str]]:
    """pdffonts' table, cut at the columns its dashed rule marks (names and types hold spaces)."""
    lines = _run("pdffonts", str(path)).splitlines()
    header, rule, rows = lines[0], lines[1], lines[2:]
    spans = [m.span() for m in re.finditer(r"-+", rule)]
    keys = [header[a:b].strip() for a, b in spans]
    spans[-1] = (spans[-1][0], None)  # type: ignore[assignment]
    return [{k: row[a:b].strip() for k, (a, b) in zip(keys, spans, strict=True)} for row in rows]


@pytest.mark.parametrize("which", ["small_pdf", "large_pdf"])
def test_every_font_is_embedded_truetype(which: str, request: pytest.FixtureRequest) -> None:
    fonts = _fonts(request.getfixturevalue(which))
    assert fonts
    for f in fonts:
        assert f["emb"] == "yes", f
        assert "Type 3" not in f["type"], f
        assert "STSong" not in f["name"], f
        assert f["type"] == "TrueType", f
        assert f["uni"] == "yes", f  # a ToUnicode map: text can be copied and searched


@pytest.mark.parametrize("which", ["small_pdf", "large_pdf"])
def test_a4_pdf(which: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(which)
    assert path.read_bytes().startswith(b"%PDF")
    info = _run("pdfinfo", str(path))
    assert re.search(r"^Page size:\s+595\.276 x 841\.89 pts", info, re.M), info
    assert "CreationDate:" in info


def test_small_report_text(small_pdf: Path) -> None:
    doc = small_document()
    pages = _text_pages(small_pdf)
    assert len(pages) == _pages(small_pdf) == 1
    text = pages[0]
    for s in (
        doc.title,
        doc.platform_name,
        doc.entity_name,
        doc.uscc,
        doc.entity_kind_label,
        doc.report_id,
        doc.verification_code,
        "2025-06-30 14:05",  # issued_at in Beijing time
        "2025-07-30",
        "扫码核验",
        "证明范围：甘肃省行政区域内",  # the seeds word the proof as regional
        "共0条记录",
        "第1页 共1页",
        f"本报告由{doc.platform_name}出具，可扫描二维码或凭核验码核验真伪",
    ):
        assert s in text, s
    assert text.count("该领域无违法违规记录") == 2
    assert "自2021-01-01至2025-06-30，该领域无违法违规记录" in text


def test_large_report_text(large_pdf: Path) -> None:
    doc = large_document()
    n = _pages(large_pdf)
    assert n >= 3
    pages = _text_pages(large_pdf)
    assert len(pages) == n
    for i, page in enumerate(pages, 1):
        assert f"第{i}页 共{n}页" in page
        assert "可扫描二维码或凭核验码核验真伪" in page
    text = "".join(pages)
    assert doc.title in pages[0] and doc.entity_name in pages[0]
    assert "证明范围：甘肃省行政区域内" in pages[0] and text.count("证明范围") == 1  # header only
    assert doc.verification_code in pages[0]
    clean = [d for d in doc.domains if not d.records]
    assert clean and text.count("该领域无违法违规记录") == len(clean)
    for d in doc.domains:
        if d.records:
            assert f"有{len(d.records)}条记录" in text
    assert f"共{doc.total_records}条记录" in text and doc.total_records == 60
    for d in doc.domains:
        for r in d.records:
            assert r.document_no in text, r.document_no
    assert "已于2024-03-01信用修复" in text
    assert "重大税收违法失信主体名单" in text


def test_region_name_is_printed_as_given(tmp_path: Path) -> None:
    doc = replace(small_document(), region_name="乌海市")
    out = tmp_path / "wuhai.pdf"
    out.write_bytes(pdf.render_report_pdf(doc))
    text = "".join(_text_pages(out))
    assert "证明范围：乌海市行政区域内" in text and "甘肃省" not in text


def test_a_repair_after_the_issue_day_is_not_printed(tmp_path: Path) -> None:
    heihe = load_profile("heihe")  # Heihe shows credit-repaired penalties with their repair
    d0 = heihe.domains[0]
    issued = dt.date(2025, 6, 30)
    records = [
        Rec("DONE", d0.code, date=dt.date(2023, 5, 1), repaired_on=issued),
        Rec("LATER", d0.code, date=dt.date(2023, 6, 1), repaired_on=dt.date(2030, 1, 1)),
    ]
    domains = assemble(heihe, [d0], records, dt.date(2021, 1, 1), issued, issued)
    doc = replace(small_document(), domains=domains)
    out = tmp_path / "repair.pdf"
    out.write_bytes(pdf.render_report_pdf(doc))
    text = "".join(_text_pages(out))
    assert "有2条记录" in text  # both penalties are shown
    assert "已于2025-06-30信用修复" in text and "2030-01-01" not in text


def test_page_breaks_never_cut_a_record(large_pdf: Path) -> None:
    pages = _text_pages(large_pdf)
    for d in large_document().domains:
        for r in d.records:
            start = [i for i, p in enumerate(pages) if r.document_no in p]
            end = [i for i, p in enumerate(pages) if f"END{r.record_id[4:]}" in p]
            assert len(start) == 1 and start == end, (r.record_id, start, end)
    # A domain continued from the previous page is named again at the top of the next one.
    assert any("（续）" in p for p in pages[1:])


def test_deterministic_bytes_across_calls_and_processes() -> None:
    doc = large_document()
    first = pdf.render_report_pdf(doc)
    assert pdf.render_report_pdf(doc) == first
    script = (
        "import hashlib, pickle, sys\n"
        "from report_service.pdf import render_report_pdf\n"
        "doc = pickle.loads(sys.stdin.buffer.read())\n"
        "print(hashlib.sha256(render_report_pdf(doc)).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", script]
    out = subprocess.run(cmd, input=pickle.dumps(doc), capture_output=True, check=True, env=env)
    assert out.stdout.decode().strip() == hashlib.sha256(first).hexdigest()


def test_a_stream_of_reports_leaves_nothing_for_the_garbage_collector_to_walk() -> None:
    """A serve process renders report after report. What it keeps between them (the layout and
    drawing memos) must not be objects the collector tracks: each full collection walks every
    one of them, with every request in the process held up (30-65 ms under the fleet benchmark
    when a memo kept the report numbers' lines)."""

    def nth(n: int) -> ReportDocument:
        code = f"K7Q2-{n:04d}-4RTA"
        return replace(
            large_document(),
            report_id=f"GS-20250630-{n:06d}",
            verification_code=code,
            verify_url=f"https://credit.example.gov.cn/v1/verify/{code}",
            issued_at=dt.datetime(2025, 6, 30, 6, 5, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
            period_from=dt.date(2022 + n % 3, 7, 1),  # the kiosk's one, two and three years
        )

    for n in range(20):  # the memos of what every report shares fill here
        pdf.render_report_pdf(nth(n))
    gc.collect()
    before = len(gc.get_objects())
    for n in range(20, 420):
        pdf.render_report_pdf(nth(n))
    gc.collect()
    assert len(gc.get_objects()) - before < 100  # not some per report


def test_a_record_taller_than_a_page_is_split_not_lost(tmp_path: Path) -> None:
    doc = build_document(domains=1, records=1)
    (dom,) = doc.domains
    huge = replace(dom.records[0], title="超长案由" * 700 + "END9999")
    doc = replace(doc, domains=(replace(dom, records=(huge,)),))
    out = tmp_path / "huge.pdf"
    out.write_bytes(pdf.render_report_pdf(doc))
    pages = _text_pages(out)
    assert len(pages) >= 3 and "END9999" in pages[-1]
    assert f"第{len(pages)}页 共{len(pages)}页" in pages[-1]


def test_many_distinct_characters_span_several_embedded_subsets(tmp_path: Path) -> None:
    # 600 distinct characters of the report's own: more than one 255-code font can hold
    rare = "".join(chr(c) for c in range(0x5000, 0x5400) if chr(c) not in "".join(DOMAIN_NAMES))
    rare = "".join(ch for ch in rare if pdf._get_face(pdf.resolve_font_path()).has(ch))[:600]
    doc = build_document(domains=3, records=1)
    dom = doc.domains[0]
    record = replace(dom.records[0], title=rare)
    doc = replace(doc, domains=(replace(dom, records=(record,)), *doc.domains[1:]))
    out = tmp_path / "rare.pdf"
    out.write_bytes(pdf.render_report_pdf(doc))
    fonts = _fonts(out)
    assert len(fonts) >= 4  # template, domain names, and at least two of the report's own
    assert all(f["emb"] == "yes" and f["uni"] == "yes" for f in fonts)
    text = "".join(_text_pages(out))
    assert set(rare) <= set(text)


def test_concurrent_renders_match() -> None:
    docs = [large_document(), small_document()] * 8
    expected = [pdf.render_report_pdf(d) for d in docs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(pdf.render_report_pdf, docs)) == expected


def test_font_path_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = pdf.resolve_font_path()
    missing = str(tmp_path / "none.ttc")
    with pytest.raises(pdf.FontNotFoundError, match="fonts-wqy-microhei"):
        pdf.render_report_pdf(small_document(), font_path=missing)
    monkeypatch.setenv(pdf.FONT_ENV, missing)
    with pytest.raises(pdf.FontNotFoundError, match=re.escape(f"${pdf.FONT_ENV}")):
        pdf.resolve_font_path()
    assert pdf.resolve_font_path(real) == real  # the argument wins over the environment
    monkeypatch.setenv(pdf.FONT_ENV, real)
    monkeypatch.setattr(pdf, "DEFAULT_FONT_PATH", missing)
    assert pdf.resolve_font_path() == real  # the environment wins over the default
    monkeypatch.delenv(pdf.FONT_ENV)
    with pytest.raises(pdf.FontNotFoundError, match="apt-get install fonts-wqy-microhei"):
        pdf.resolve_font_path()


def test_naive_issue_time_is_refused() -> None:
    doc = small_document()
    naive = replace(doc, issued_at=doc.issued_at.replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone-aware"):
        pdf.render_report_pdf(naive)


def test_qr_decodes_to_verify_url(small_pdf: Path, tmp_path: Path) -> None:
    import zxingcpp
    from PIL import Image

    _run("pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", str(small_pdf), str(tmp_path / "p"))
    (png,) = tmp_path.glob("p*.png")
    results = zxingcpp.read_barcodes(Image.open(png))
    assert [r.text for r in results] == [small_document().verify_url]


# Rare characters of real names: Ext B (𠮷 U+20BB7, 𪚥 U+2A6A5), Ext A (䶮 U+4DAE) and two
# 通用规范汉字 in Ext E (𬌗 U+2C317, 𬍛 U+2C35B); WenQuanYi Micro Hei has none of them.
RARE = "𠮷𪚥䶮𬌗𬍛"


def test_characters_the_main_font_lacks_print_from_the_fallback_fonts(tmp_path: Path) -> None:
    main = pdf._get_face(pdf.resolve_font_path())
    assert not any(main.has(ch) for ch in RARE + "\U00020000")
    doc = replace(small_document(), entity_name=f"生僻字{RARE}\U00020000有限公司")
    out = tmp_path / "rare.pdf"
    out.write_bytes(pdf.render_report_pdf(doc))
    assert f"生僻字{RARE}\U00020000有限公司" in "".join(_text_pages(out))  # nothing blank
    fonts = _fonts(out)
    assert any("HanaMin" in f["name"] for f in fonts)
    assert all(f["emb"] == "yes" and f["uni"] == "yes" for f in fonts)


def test_a_character_no_font_has_refuses_the_report() -> None:
    chain = pdf._get_chain(pdf.resolve_font_chain())
    # an Extension G character outside every installed font, and a private-use code point
    # (its meaning is some vendor's: never printed as whatever glyph a font keeps there)
    nowhere = next(chr(c) for c in range(0x30000, 0x3134B) if not chain.has(chr(c)))
    for odd in (nowhere, "\ue000"):
        doc = replace(small_document(), entity_name=f"兰州{odd}有限公司")
        with pytest.raises(pdf.UnprintableText) as refused:
            pdf.render_report_pdf(doc)
        assert refused.value.chars == [odd]
