"""An evaluation as text: a table for people, or Markdown tables for docs/evaluation.md."""

from __future__ import annotations

from typing import Any

from keyguard.events import ALERT_KINDS

#: Alert summaries in the false-alarm list are cut to this many characters.
SUMMARY_CHARS = 110


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100.0 * x:.1f} %"


def _num(x: float | None, fmt: str = ".3f") -> str:
    return "—" if x is None else format(x, fmt)


def _rows(d: dict) -> dict[str, list[list[str]]]:
    """The evaluation's tables as rows of cells (header first)."""
    kinds = [["kind", "events", "detected", "rate", "alerts", "false alarms"]]
    for k in ALERT_KINDS:
        s = d["kinds"][k]
        if s["events"] or s["alerts"]:
            kinds.append([k, str(s["events"]), str(s["detected"]), _pct(s["detection_rate"]),
                          str(s["alerts"]), str(s["false_alarms"])])
    presses = d["presses"]
    fp = [["alert kind", f"genuine presses accused (of {presses['genuine_presses']})",
           "FP per press"]]
    for k, n in presses["flagged"].items():
        fp.append([k, str(n), _pct(presses["fp_per_press"][k])])
    dec = [["protocol", "presses", "decoded", "attack frames", "decoded", "decode rate"]]
    for proto, v in d["decode"].items():
        dec.append([proto, str(v["presses"]), str(v["presses_decoded"]),
                    str(v["attack_frames"]), str(v["attack_frames_decoded"]),
                    _pct(v["decode_rate"])])
    out = {"kinds": kinds, "presses": fp, "decode": dec}
    clf = d.get("classifier") or {}
    if clf:
        rows = [["class", "bursts", "recall", "ROC AUC"]]
        for c, v in clf["classes"].items():
            rows.append([c, str(v["bursts"]), _pct(v["recall"]), _num(v["auc"])])
        out["classifier"] = rows
    return out


def benign_line(d: dict) -> str:
    h = d["benign_s"] / 3600.0
    line = (f"false alarms: {d['false_alarms']} in {h:.3f} h of benign time "
            f"({_num(d['false_alarms_per_hour'], '.2f')} per hour")
    if d.get("false_alarms_per_hour_95") is not None:
        line += f"; fewer than {d['false_alarms_per_hour_95']:.2f} per hour at 95 % confidence"
    return line + ")"


def format_table(total: dict) -> str:
    """The totals record (``Evaluation.to_dict()``) as aligned text tables."""
    lines = [f"{total['captures']} capture(s), {total['duration_s']:.1f} s, truth from "
             f"{', '.join(total['truth']) or '—'}; model {total['model'] or 'none'}; "
             f"slack ±{total['slack_s']:g} s",
             f"{total['packets']} packet(s), {total['alerts']} alert(s); " + benign_line(total)]
    titles = {"kinds": "Detection per alert kind", "presses": "Genuine presses accused",
              "decode": "Decode rate per protocol", "classifier": "Burst classifier (one class against the rest)"}
    for name, rows in _rows(total).items():
        if len(rows) == 1:
            continue
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines += ["", titles[name]]
        for r in rows:
            lines.append("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                          for i, (c, w) in enumerate(zip(r, widths))))
    for err in total.get("errors") or []:
        lines.append(f"NOT SCORED (scan failed): {err['capture']}: {err['error']}")
    for title, key in (("False alarms", "false_alarm_list"), ("Missed", "missed_list")):
        items = total.get(key) or []
        if items:
            lines += ["", f"{title} ({len(items)})"]
            for it in items:
                what = it.get("summary") or it.get("source") or ""
                if len(what) > SUMMARY_CHARS:  # an unknown frame's identity can be 1000 hex digits
                    what = what[:SUMMARY_CHARS - 1] + "…"
                lines.append(f"  {it['kind']:10s} {it['t']:9.3f}–{it['t_end']:.3f} s  "
                             f"{it['capture']}  {what}")
    return "\n".join(lines)


def format_markdown(total: dict) -> str:
    """The totals record as Markdown tables (for docs/evaluation.md)."""
    first = benign_line(total)
    lines = [first[:1].upper() + first[1:] + "."]
    for rows in _rows(total).values():
        if len(rows) == 1:
            continue
        lines += ["", "| " + " | ".join(rows[0]) + " |",
                  "|" + "---|" * len(rows[0])]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def summary_line(result: Any) -> str:
    """One line per scored capture (progress output)."""
    s = result.score
    det = sum(k.detected for k in s.kinds.values())
    n = sum(k.events for k in s.kinds.values())
    fa = sum(k.false_alarms for k in s.kinds.values())
    return (f"{result.capture}: {result.duration_s:.1f} s, {result.alerts} alert(s), "
            f"{det}/{n} attack event(s) detected, {fa} false alarm(s)")
