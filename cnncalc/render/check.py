"""Output of `cnncalc check`: the Rich ✓/✗ table, GitHub annotations and JUnit XML (formatting only)."""
from __future__ import annotations

from ..exam.check import CheckResult, Item
from .safe import guard, visible, xml_text


def display_id(result: CheckResult, item: Item) -> str:
    multi = len(result.networks) > 1
    return f"{item.group}/{item.id}" if multi and item.group != "questions" else item.id


def message(result: CheckResult, item: Item) -> str:
    msg = f"{display_id(result, item)}: given {item.given}, expected {item.expected}"
    if item.slip:
        msg += f" — {item.slip.name}: {item.slip.detail}"
    elif not item.ok:
        msg += f" — {item.rule}"          # "no known slip explains …"
    return msg


def _gh_escape(text: str, prop: bool = False) -> str:
    """A workflow command's value: control characters shown escaped, line breaks as %0A, no `##[`."""
    text = visible(text, keep_newlines=True)
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return guard(text)


def github_lines(result: CheckResult) -> list[str]:
    """One `::error file=…,line=…::message` workflow command per wrong answer."""
    lines = []
    for item in result.wrong:
        props = f"file={_gh_escape(item.file, True)}"
        if item.line:
            props += f",line={item.line}"
        props += f",title={_gh_escape('cnncalc check ' + display_id(result, item), True)}"
        body = message(result, item) + "".join("\n" + ln for ln in item.formula)
        lines.append(f"::error {props}::{_gh_escape(body)}")
    return lines


def junit_xml(result: CheckResult) -> str:
    """JUnit XML: one testsuite per network (and one for questions), one testcase per answered figure."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name=xml_text(f"cnncalc check {result.file}"), tests=str(result.total),
                      failures=str(result.failed), errors="0")
    groups: dict[str, list[Item]] = {}
    for item in result.items:
        groups.setdefault(item.group, []).append(item)
    for group, items in groups.items():
        failed = sum(not i.ok for i in items)
        suite = ET.SubElement(root, "testsuite", name=xml_text(group), tests=str(len(items)), failures=str(failed),
                              errors="0", skipped="0")
        for item in items:
            case = ET.SubElement(suite, "testcase", classname=xml_text(group), name=xml_text(item.id),
                                 file=xml_text(item.file), line=str(item.line or 0))
            if not item.ok:
                fail = ET.SubElement(case, "failure", message=xml_text(message(result, item)),
                                     type=item.slip.name if item.slip else "wrong answer")
                fail.text = xml_text("\n".join([message(result, item)] + item.formula))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def check_columns(result) -> list:
    """`cnncalc check`'s columns: ✓/✗, answer, line, given, expected, the slip or rule, the formula."""
    from rich.text import Text

    from .fit import Col

    items = result.items
    marks = [Text("✓", style="green") if i.ok else Text("✗", style="bold red") for i in items]
    why = []
    for item in items:
        if item.ok:
            why.append(Text(item.rule + (f"; {item.note}" if item.note else ""), style="dim"))
            continue
        text = Text.assemble((item.slip.name, "bold yellow"), f": {item.slip.detail}") if item.slip else \
            Text(item.rule, style="dim")
        for line in item.formula:
            text.append("\n" + line)
        why.append(text)
    ids = [Text(display_id(result, i), style="" if i.ok else "red") for i in items]
    return [Col("", marks, raw=["ok" if i.ok else "wrong" for i in items]),
            Col("answer", ids, kind="name"),
            Col("line", [str(i.line or "") for i in items], drop=1),
            Col("given", [i.given for i in items]),
            Col("expected", [i.expected for i in items]),
            Col("slip or rule, formula", why, kind="wrap", min=30)]


def print_result(result, console=None) -> None:
    from rich.text import Text

    from .fit import fit
    from .tables import make_console

    con = console or make_console()
    con.print(Text(f"cnncalc check {visible(result.file)}", style="italic"))
    con.print(fit(check_columns(result), con.width))
    style = "green" if result.ok else "bold red"
    con.print(Text(f"{result.passed} of {result.total} answers right"
                   + (f", {result.failed} wrong" if result.failed else ""), style=style))
