"""The HTML evidence report: structure, content, self-containment, determinism, escaping."""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
import struct
from html.parser import HTMLParser

import pytest

from keyguard.events import Alert, Packet, dumps
from keyguard.io import open_capture
from keyguard.report import ReportSettings, RecordsError, build_report, build_report_pdf, \
    read_jsonl, write_report
from test_report_scene import FC, FS, START_A, make_scene

FIXED = "2024-05-02T08:00:00.000000Z"
OPTIONS = {"profiles": ["fw dir/"], "min_severity": "info", "state": "case 42.db"}
QUICK = ReportSettings(waterfall_rows=100, zoomed_alerts=0)  # for tests that read no figure


class Page(HTMLParser):
    """Elements (tag, attrs) in order, the text under each id, and all text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text_parts: list[str] = []
        self.by_id: dict[str, list[str]] = {}
        self._open: list[tuple[str, str | None]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        if tag not in ("img", "meta", "br", "link", "input"):
            self._open.append((tag, a.get("id")))
            if a.get("id"):
                self.by_id.setdefault(a["id"], [])

    def handle_endtag(self, tag):
        while self._open:
            t, _ = self._open.pop()
            if t == tag:
                break

    def handle_data(self, data):
        self.text_parts.append(data)
        for _, ident in self._open:
            if ident:
                self.by_id[ident].append(data)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def id_text(self, ident: str) -> str:
        return "".join(self.by_id.get(ident, []))

    def find(self, tag: str, class_: str | None = None) -> list[dict]:
        """Attributes of the ``tag`` elements (having class ``class_`` when given)."""
        return [a for t, a in self.elements if t == tag and
                (class_ is None or class_ in (a.get("class") or "").split())]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return make_scene(tmp_path_factory.mktemp("scene"))


@pytest.fixture(scope="module")
def report(scene):
    return build_report(scene.captures, scene.records, case_ref="CASE-0042", options=OPTIONS,
                        analysis_time=FIXED, versions={"model": "m1", "profiles": "p1"})


@pytest.fixture(scope="module")
def page(report):
    return Page(report)


def test_sections_and_header(page, scene):
    for ident in ("header", "inputs", "findings", "timeline", "captures", "alerts", "packets",
                  "limits", "analysis-time", "report-meta", "options"):
        assert ident in page.by_id, ident
    assert page.id_text("analysis-time") == FIXED
    meta = page.id_text("report-meta")
    for s in ("CASE-0042", "0.1.0", "model version", "m1", "profiles version", "p1"):
        assert s in meta
    opts = page.id_text("options")
    assert "min_severity" in opts and "case 42.db" in opts and "fw dir/" in opts


def test_inputs_list_hash_size_and_metadata(page, scene):
    table = page.id_text("input-table")
    for path, cap in zip(scene.paths, scene.captures):
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() in table
        assert f"{len(data):,} bytes" in table
        assert str(path) in table
    assert "433.920000 MHz" in table and "250 ksps" in table
    assert "2024-05-01T21:14:03.000000Z" in table and "4.000000 s" in table
    # in time order
    assert table.index(str(scene.paths[0])) < table.index(str(scene.paths[1]))


def test_one_row_per_packet_in_time_order(page, scene):
    packets = [r for r in scene.records if isinstance(r, Packet)]
    rows = page.find("tr", class_="packet")
    assert [r["id"] for r in rows] == [f"pkt-{i}" for i in range(1, len(packets) + 1)]
    table = page.id_text("packet-table")
    for p in packets:
        assert p.identity in table and p.code in table and f"{p.t:.6f}" in table
        assert f"{p.freq_hz / 1e6:.6f}" in table
    assert page.id_text("pkt-3").count("0D36C681:5A5A1234") == 1
    assert "scene_b.cu8" in page.id_text("pkt-3")  # the replay, an hour later, comes last


def test_alert_sections_with_evidence_side_by_side_zoom_and_command(page, scene):
    arts = page.find("article", class_="alert")
    assert [a["id"] for a in arts] == ["alert-1", "alert-2"]
    jam, replay = page.id_text("alert-1"), page.id_text("alert-2")
    assert "jamming" in jam and "medium" in jam and "js_db" in jam and "24.5" in jam
    assert "replay" in replay and "first_seen.t" in replay and "since_first_seen_s" in replay
    # first seen (scene_a, P1) and replayed (scene_b, P3) in two columns, first seen on the left
    assert replay.index("first seen: scene_a.cu8") < replay.index("replay (this alert): scene_b")
    assert "P1" in replay and "P3" in replay
    same = [a for a in page.find("td", class_="same")]
    assert len(same) >= 4  # identity, code and data equal in both columns
    # a zoom figure per alert with IQ behind it
    assert {a.get("id") for a in page.find("figure")} >= {"zoom-1", "zoom-2", "waterfall-1",
                                                          "waterfall-2"}
    cmds = [a for a in page.find("pre", class_="reproduce")]
    assert len(cmds) == 2
    line = replay[replay.index("keyguard scan"):].strip()
    argv = shlex.split(line)
    assert argv[:4] == ["keyguard", "scan", str(scene.paths[0]), str(scene.paths[1])]
    assert argv[argv.index("--format") + 1] == "jsonl"
    assert argv[argv.index("--state") + 1] == "case 42.db"
    assert argv[argv.index("--profiles") + 1] == "fw dir/"
    assert argv[-4:] == ["|", "grep", "-F", '"type": "alert", "kind": "replay"']


def test_findings_and_timeline(page):
    f = page.id_text("findings")
    assert "Highest severity: high." in f
    assert "1 jamming, 1 replay" in f and "2 captures, 3 packets, 2 alerts" in f
    assert "1.25" not in f  # the scan's wall time would make reports differ run to run
    links = [a["href"] for a in page.find("a") if a.get("href", "").startswith("#alert-")]
    assert "#alert-1" in links and "#alert-2" in links


def test_limits_are_stated_with_figures_of_the_inputs(page):
    lim = page.id_text("limits")
    for s in ("125 kHz", "417 ns", "45 dB", "ppm", "time of flight", "direction"):
        assert s.lower() in lim.lower(), s
    assert "4000 ns" in lim and "± 13.0 kHz" in lim  # 250 ksps; 30 ppm of 433.92 MHz


def test_self_contained_no_script_no_external_reference(report, page):
    assert not page.find("script") and "javascript:" not in report.lower()
    csp = [a for a in page.find("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]["content"]
    for tag, a in page.elements:
        for k, v in a.items():
            assert not k.startswith("on"), (tag, k)
            if k in ("src", "href"):
                assert v.startswith("data:image/png;base64,") or v.startswith("#"), v
    imgs = page.find("img")
    assert len(imgs) == 5  # timeline, 2 waterfalls, 2 zooms
    for a in imgs:
        png = base64.b64decode(a["src"].split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        w, h = struct.unpack(">II", png[16:24])
        assert (w, h) == (int(a["width"]), int(a["height"]))


def test_same_inputs_give_identical_bytes_apart_from_analysis_time(scene, report, tmp_path):
    # the second run reads the records back from a JSON Lines file, as `--records` does
    f = tmp_path / "scan.jsonl"
    f.write_text("".join(dumps(r.to_dict()) + "\n" for r in scene.records), encoding="utf-8")
    later = build_report(scene.captures, list(read_jsonl(f)), case_ref="CASE-0042",
                         options=OPTIONS, analysis_time="2031-01-01T00:00:00.000000Z",
                         versions={"model": "m1", "profiles": "p1"})
    assert later != report
    assert later.replace("2031-01-01T00:00:00.000000Z", FIXED) == report


@pytest.mark.parametrize("line, msg", [
    ("{not json", "line 2 is not JSON"),
    ('{"type": "packet", "capture": "a.cu8"}', "has no 't'"),
    ('{"type": "alert", "kind": "replay", "capture": "a", "t": 1, "severity": "dire"}',
     "unknown alert severity"),
    ('{"type": "packet", "capture": "a.cu8", "t": "soon"}', "is not a number"),
])
def test_bad_records_file_names_the_line(tmp_path, line, msg):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"type": "summary", "captures": 0, "packets": 0, "alerts": 0}\n' + line + "\n")
    with pytest.raises(RecordsError, match=msg) as e:
        list(read_jsonl(f))
    assert str(f) in str(e.value)


CRAFTED = ('<script>alert(1)</script>', '"><img src=x onerror=alert(2)>', "a$b$c \\$ {x}")


def test_markup_from_inputs_is_escaped(tmp_path):
    d1 = tmp_path / "<script>alert(1)<"
    names = ("<script>alert(1)</script>.cu8", '"><img src=x onerror=alert(2)>.cu8')
    scene = make_scene(tmp_path, names)
    assert scene.paths[0].parent == d1 and scene.paths[0].exists()
    evil = CRAFTED
    pkt = Packet(capture=scene.captures[0].path, t=1.6, t_end=1.7, modulation="OOK",
                 protocol=evil[0], bits=8, data="A5", identity=evil[1], code=evil[2],
                 fields={"button": evil[0]}, freq_hz=FC + 5e3)
    alert = Alert(kind="clone", capture=scene.captures[0].path, t=1.6, t_end=1.7,
                  severity="critical", confidence=0.5, summary=evil[1], identity=evil[1],
                  evidence={evil[0]: evil[1], "first_seen": {"capture": scene.captures[1].path,
                                                              "t": 0.4, "note": evil[2]}})
    html_text = build_report(scene.captures, scene.records + [pkt, alert], title=evil[0],
                             case_ref=evil[1], options={"model": evil[1], evil[0]: 1},
                             analysis_time=FIXED, versions={evil[0]: evil[2]})
    page = Page(html_text)
    assert not page.find("script")
    for tag, attrs in page.elements:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,")
    # the crafted strings are shown as text, intact
    for s in evil + names:
        assert s in page.text
    assert "<script>" not in html_text and "<img src=x" not in html_text


def test_captures_only_named_by_records_are_listed_without_iq(scene):
    ghost = Packet(capture="/elsewhere/ghost.cu8", t=0.1, t_end=0.2, modulation="OOK",
                   protocol="unknown", bits=0, data="")
    html_text = build_report(scene.captures[:1], scene.records + [ghost], analysis_time=FIXED,
                             settings=QUICK)
    page = Page(html_text)
    table = page.id_text("input-table")
    assert "/elsewhere/ghost.cu8" in table and "IQ not opened" in table
    # records of the second capture still list it, from the capture record alone
    assert str(scene.paths[1]) in table
    assert len(page.find("tr", class_="packet")) == 4
    assert "undecoded" in page.id_text("findings")


def test_records_from_another_file_are_flagged(scene, tmp_path):
    recs = [r.to_dict() for r in scene.records]
    recs[0]["sha256"] = "0" * 64  # the scan saw different bytes under that name
    page = Page(build_report(scene.captures, recs, analysis_time=FIXED, settings=QUICK))
    assert "may not belong to this file" in page.id_text("input-table")


def test_no_alerts_no_packets_still_reports(scene):
    cap = scene.captures[0]
    page = Page(build_report([cap], [], analysis_time=FIXED,
                             settings=ReportSettings(waterfall_rows=200)))
    assert "No alert was raised." in page.id_text("findings")
    assert "No packet was received." in page.id_text("packet-table")
    assert [a.get("id") for a in page.find("figure")] == [None, "waterfall-1"]
    assert len(page.find("img")) == 2  # timeline and waterfall


def test_pdf_is_a_deterministic_pdf(scene, tmp_path):
    a = build_report_pdf(scene.captures, scene.records, analysis_time=FIXED, case_ref="C",
                         settings=ReportSettings(waterfall_rows=300, zoomed_alerts=1))
    out = write_report(tmp_path / "r.pdf", scene.captures, scene.records, fmt="pdf",
                       analysis_time=FIXED, case_ref="C",
                       settings=ReportSettings(waterfall_rows=300, zoomed_alerts=1))
    b = out.read_bytes()
    assert a[:5] == b"%PDF-" and a.rstrip().endswith(b"%%EOF")
    assert a == b and len(a) > 50_000
    assert b"CreationDate" not in a and not (tmp_path / "r.pdf.part").exists()


def test_capture_without_centre_uses_offsets(tmp_path):
    scene = make_scene(tmp_path)
    cap = open_capture(scene.paths[0], sample_rate=FS, start_time=START_A)
    cap.center_freq = None  # as for a raw file whose centre nobody recorded
    pkt = Packet(capture=cap.path, t=0.5, t_end=0.59, modulation="OOK", protocol="keeloq",
                 bits=66, data="00", freq_hz=10e3)
    page = Page(build_report([cap], [pkt], analysis_time=FIXED))
    assert "+10.0 kHz offset" in page.id_text("packet-table")
    assert "unknown" in page.id_text("input-table")
    assert json.dumps(pkt.to_dict())  # the record stays plain JSON


def test_records_made_elsewhere_are_matched_to_the_files_by_name(scene):
    recs = [r.to_dict() for r in scene.records]
    for r in recs:  # as if the scan ran in another folder with relative paths
        if "capture" in r:
            r["capture"] = "evidence/" + r["capture"].rsplit("/", 1)[-1]
        for ref in (r.get("evidence") or {}).values():
            if isinstance(ref, dict) and "capture" in ref:
                ref["capture"] = "evidence/" + ref["capture"].rsplit("/", 1)[-1]
    page = Page(build_report(scene.captures, recs, analysis_time=FIXED))
    table = page.id_text("input-table")
    assert table.count("IQ read from") == 2 and "evidence/scene_a.cu8" in table
    assert len(page.find("tr", class_="packet")) == 3
    assert len(page.find("img")) == 5  # both zooms found their IQ through the name
