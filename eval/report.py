"""Write an evaluation run to `eval/reports/<timestamp>/`.

Each run folder holds `report.json` (every figure and every item's record),
`report.md` (the figures, ours beside the baseline, and the failed items with
question, answer and citations) and `chart.png` (the main figures). The folder
of the latest run is named by `eval/reports/LATEST` and linked as
`eval/reports/latest`.

Deliberately not done here: computing any figure (eval/harness.py, eval/cmrc.py).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .metrics import percentile

# (section, key, label) of the figures shown in tables and charts, in order.
ROWS = [
    ("retrieval", "recall@1", "evidence recall@1"),
    ("retrieval", "recall@5", "evidence recall@5"),
    ("retrieval", "recall@10", "evidence recall@10"),
    ("retrieval", "mrr", "MRR"),
    ("answers", "must_include_recall", "must_include recall"),
    ("answers", "fully_correct", "fully correct"),
    ("answers", "char_f1", "char F1"),
    ("citations", "recall", "citation recall"),
    ("citations", "precision", "citation precision"),
    ("faithfulness", "numbers", "numbers in answers"),
    ("faithfulness", "unsupported_numbers", "numbers in no cited paragraph"),
    ("faithfulness", "items_with_unsupported_numbers", "items with such numbers"),
    ("refusals", "unanswerable_refused", "unanswerable refused (share)"),
    ("refusals", "answerable_refused", "answerable refused (count)"),
]
LATENCY = [("retrieval", "retrieval"), ("first_text", "first text"), ("answer", "whole answer")]
CMRC_ATTRIBUTION = (
    'Data: CMRC 2018 (Cui et al., "A Span-Extraction Dataset for Chinese Machine Reading Comprehension", '
    "EMNLP-IJCNLP 2019), github.com/ymcui/cmrc2018, licensed CC BY-SA 4.0."
)


def fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, (bool, int)):
        return str(int(value))
    return f"{value:.3f}"


def figures_table(systems: dict[str, dict]) -> list[str]:
    """Markdown table rows: one line per figure, one column per system."""
    names = list(systems)
    lines = ["| figure | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for section, key, label in ROWS:
        if any(section in s for s in systems.values()):
            lines.append(f"| {label} | " + " | ".join(fmt(systems[n].get(section, {}).get(key)) for n in names) + " |")
    for key, label in LATENCY:
        for q in ("p50", "p95"):
            if any(key in s["latency_s"] for s in systems.values()):
                cells = [fmt(systems[n]["latency_s"].get(key, {}).get(q)) for n in names]
                lines.append(f"| {label} {q} (s) | " + " | ".join(cells) + " |")
    return lines


def support_lines(support: dict, refuse_below: str, full: bool = True) -> list[str]:
    """The support scores of answerable and unanswerable items, and the suggested threshold."""
    a, u, s = support["answerable"], support["unanswerable"], support["suggested"]

    def spread(xs: list[float]) -> str:
        if full or not xs:
            return ", ".join(f"{x:.3f}" for x in xs)
        return "min {:.3f}, p25 {:.3f}, median {:.3f}, p75 {:.3f}, max {:.3f}".format(
            *(percentile(xs, q) for q in (0, 25, 50, 75, 100))
        )

    lines = [
        f"- answerable ({len(a)}): {spread(a)}",
        f"- unanswerable ({len(u)}): {spread(u)}",
        f"- current `refuse_below`: {refuse_below}",
    ]
    if s:
        lines.append(
            f"- suggested `refuse_below` = **{s['threshold']:.3f}** (support alone: {s['correct']} of "
            f"{len(a) + len(u)} right, {s['answerable_refused']} answerable and {s['unanswerable_refused']} "
            "unanswerable refused)"
        )
    return lines


def _cut(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"


def gold_markdown(report: dict) -> str:
    from .harness import failed

    out = [
        f"# Gold-set evaluation, {report['created']}",
        "",
        f"Gold file `{report['gold']}`, {next(iter(report['systems'].values()))['items']} items"
        + (f" (seeded sample of {report['sample']})" if report["sample"] else "")
        + f", top_k={report['top_k']}"
        + (", retrieval only" if report["retrieval_only"] else "")
        + f". Embedder `{report['settings']['embedder']}`, LLM `{report['settings']['llm']}`.",
        "",
        "## Figures",
        "",
        *figures_table(report["systems"]),
        "",
        "![main figures](chart.png)",
        "",
    ]
    ours = report["systems"]["ours"]
    if "support" in ours:
        out += [
            "## Support scores (refusal calibration)",
            "",
            *support_lines(ours["support"], report["settings"]["refuse_below"]),
            "",
        ]
    for name, records in report["records"].items():
        bad = [(r, failed(r)) for r in records if failed(r)]
        out += [f"## Failed items: {name} ({len(bad)} of {len(records)})", ""]
        for r, reasons in bad:
            out += [
                f"### {r['id']} ({r['type']}): {r['question']}",
                "",
                f"- why: {'; '.join(reasons)}",
                f"- gold: {r['gold']}",
            ]
            if "first_rank" in r:
                out.append(f"- first evidence rank: {r['first_rank'] or 'not in top 10'}")
            if "answer" in r:
                out.append(f"- answer: {_cut(r['answer'], 400)}")
                if r.get("support") is not None:
                    out.append(f"- support: {r['support']:.3f}")
                for i, c in enumerate(r["citations"], start=1):
                    where = f"{c['doc']} ¶{c['paragraph']}" if c["paragraph"] else c["doc"]
                    out.append(f"  - [{i}] {where}: {_cut(c['text'])}")
                if r.get("dropped"):
                    out.append("- dropped by the check: " + " / ".join(_cut(d, 80) for d in r["dropped"]))
            out.append("")
    return "\n".join(out)


def cmrc_markdown(report: dict) -> str:
    f = report["figures"]
    lines = [
        f"# CMRC 2018 evaluation, {report['created']}",
        "",
        CMRC_ATTRIBUTION,
        "",
        f"Knowledge base: {f['passages']} passages of `{report['path']}`, one document each "
        f"(titled with its Wikipedia title); {f['questions']} questions.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| passage recall@1 (all {f['questions']} questions) | {fmt(f['recall@1'])} |",
        f"| passage recall@5 | {fmt(f['recall@5'])} |",
        f"| answered sample (seed {report['seed']}) | {f['sample']} |",
        f"| answer contains a reference | {fmt(f['contains_reference'])} |",
        f"| EM | {fmt(f['em'])} |",
        f"| F1 | {fmt(f['f1'])} |",
        f"| refused | {fmt(f['refused'])} |",
        f"| answer cites the question's passage | {fmt(f['cited_passage'])} |",
        f"| retrieval p50 / p95 (s) | {fmt(f['latency_s']['retrieval']['p50'])} / "
        f"{fmt(f['latency_s']['retrieval']['p95'])} |",
        f"| answer p50 / p95 (s) | {fmt(f['latency_s']['answer']['p50'])} / {fmt(f['latency_s']['answer']['p95'])} |",
        f"| index build (s) | {fmt(f.get('index_build_s'))} |",
        "",
        "Our answers are whole extracted sentences, not spans, so EM and F1 (which "
        "punish extra words) sit far below the share of answers containing a reference.",
        "",
        "![main figures](chart.png)",
        "",
        "## Sample answers without a reference answer",
        "",
    ]
    for r in [r for r in report["records"] if not r["contains_reference"]][:40]:
        lines += [
            f"- **{r['id']}** {r['question']} — references: {' / '.join(r['references'])}; "
            f"answer: {_cut(r['answer'], 200)}"
        ]
    return "\n".join(lines) + "\n"


def chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if report["kind"] == "cmrc":
        f = report["figures"]
        labels = ["recall@1", "recall@5", "contains ref", "EM", "F1"]
        series = {"ours": [f["recall@1"], f["recall@5"], f["contains_reference"], f["em"], f["f1"]]}
        latency: dict = {"ours": f["latency_s"]}
    else:
        rows = [(s, k, label) for s, k, label in ROWS if isinstance(_value(report, s, k), float)]
        labels = [label for _, _, label in rows]
        series = {n: [fig.get(s, {}).get(k) or 0.0 for s, k, _ in rows] for n, fig in report["systems"].items()}
        latency = {n: fig["latency_s"] for n, fig in report["systems"].items()}

    counts = (
        {}
        if report["kind"] == "cmrc"
        else {
            n: [fig.get("faithfulness", {}).get(k) for k in ("numbers", "unsupported_numbers")]
            for n, fig in report["systems"].items()
        }
    )
    counts = {n: v for n, v in counts.items() if None not in v}
    ratios = [3, 1.3] + ([1.1] if counts else [])
    fig, axes = plt.subplots(1, len(ratios), figsize=(2.9 * sum(ratios), 4.8), gridspec_kw={"width_ratios": ratios})
    ax1, ax2 = axes[0], axes[1]
    width = 0.8 / len(series)
    for i, (name, values) in enumerate(series.items()):
        xs = [x + i * width for x in range(len(labels))]
        bars = ax1.bar(xs, [v or 0.0 for v in values], width, label=name)
        ax1.bar_label(bars, fmt="%.2f", fontsize=7)
    ax1.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(labels))], labels, rotation=30, ha="right")
    ax1.set_ylim(0, 1.1)
    ax1.set_title("quality (higher is better)")
    ax1.legend()
    keys = [k for k, _ in LATENCY if any(k in lat for lat in latency.values())]
    width = 0.8 / len(latency)
    for i, (name, lat) in enumerate(latency.items()):
        xs = [x + i * width for x in range(len(keys))]
        ax2.bar(xs, [(lat.get(k) or {}).get("p50") or 0.0 for k in keys], width, label=f"{name} p50")
        ax2.scatter(xs, [(lat.get(k) or {}).get("p95") or 0.0 for k in keys], marker="_", s=200, color="black")
    ax2.set_xticks([x + width * (len(latency) - 1) / 2 for x in range(len(keys))], keys)
    if counts:
        ax3 = axes[2]
        width = 0.8 / len(counts)
        for i, (name, values) in enumerate(counts.items()):
            bars = ax3.bar([x + i * width for x in range(2)], values, width, label=name)
            ax3.bar_label(bars, fontsize=7)
        ax3.set_xticks([x + width * (len(counts) - 1) / 2 for x in range(2)], ["numbers", "in no cited\nparagraph"])
        ax3.set_title("numbers in answers", fontsize=10)
    ax2.set_title("latency, s (bar p50, dash p95)")
    ax2.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _value(report: dict, section: str, key: str):
    for fig in report["systems"].values():
        v = fig.get(section, {}).get(key)
        if v is not None:
            return v
    return None


def new_folder(out: Path, suffix: str = "") -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + suffix
    folder, n = out / stamp, 1
    while folder.exists():  # two runs in one second
        n += 1
        folder = out / f"{stamp}-{n}"
    folder.mkdir()
    return folder


def mark_latest(folder: Path) -> None:
    """Name the folder in LATEST and point the `latest` link at it."""
    out = folder.parent
    (out / "LATEST").write_text(folder.name + "\n", encoding="utf-8")
    link = out / "latest"
    tmp = out / f".latest-{os.getpid()}"
    try:
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(folder.name, target_is_directory=True)
        os.replace(tmp, link)  # atomic: a reader never sees no link
    except OSError:
        pass  # no symlinks here (some filesystems): LATEST still names it


def write_report(report: dict, out: Path) -> Path:
    folder = new_folder(Path(out), "-cmrc" if report["kind"] == "cmrc" else "")
    (folder / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    markdown = cmrc_markdown(report) if report["kind"] == "cmrc" else gold_markdown(report)
    (folder / "report.md").write_text(markdown, encoding="utf-8")
    chart(report, folder / "chart.png")
    mark_latest(folder)
    return folder
