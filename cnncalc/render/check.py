"""Output of `cnncalc check`: the Rich ✓/✗ table, GitHub annotations and JUnit XML (formatting only)."""
from __future__ import annotations

from ..exam.check import CheckResult, Item


def display_id(result: CheckResult, item: Item) -> str:
    multi = len(result.networks) > 1
    return f"{item.group}/{item.id}" if multi and item.group != "questions" else item.id


def message(result: CheckResult, item: Item) -> str:
    msg = f"{display_id(result, item)}: given {item.given}, expected {item.expected}"
    if item.slip:
        msg += f" — {item.slip.name}: {item.slip.detail}"
    return msg


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


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

    root = ET.Element("testsuites", name=f"cnncalc check {result.file}", tests=str(result.total),
                      failures=str(result.failed), errors="0")
    groups: dict[str, list[Item]] = {}
    for item in result.items:
        groups.setdefault(item.group, []).append(item)
    for group, items in groups.items():
        failed = sum(not i.ok for i in items)
        suite = ET.SubElement(root, "testsuite", name=group, tests=str(len(items)), failures=str(failed),
                              errors="0", skipped="0")
        for item in items:
            case = ET.SubElement(suite, "testcase", classname=group, name=item.id, file=item.file,
                                 line=str(item.line or 0))
            if not item.ok:
                fail = ET.SubElement(case, "failure", message=message(result, item),
                                     type=item.slip.name if item.slip else "wrong answer")
                fail.text = "\n".join([message(result, item)] + item.formula)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def print_result(result) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from .tables import make_console

    con = make_console()
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=f"cnncalc check {result.file}", title_justify="left")
    t.add_column("", no_wrap=True)
    t.add_column("answer", overflow="fold")
    t.add_column("line", justify="right", no_wrap=True)
    t.add_column("given", overflow="fold")
    t.add_column("expected", overflow="fold")
    t.add_column("slip / rule", overflow="fold", max_width=48)
    if not result.ok:
        t.add_column("formula", overflow="fold")
    for item in result.items:
        mark = Text("✓", style="green") if item.ok else Text("✗", style="bold red")
        if item.ok:
            how = item.rule + (f"; {item.note}" if item.note else "")
            t.add_row(mark, display_id(result, item), str(item.line or ""), item.given, item.expected,
                      Text(how, style="dim"), *([] if result.ok else [""]))
        else:
            slip = Text()
            if item.slip:
                slip.append(item.slip.name.replace(", or ", ",\nor "), style="bold yellow")
                slip.append(f": {item.slip.detail}")
            else:
                slip.append(item.rule, style="dim")
            t.add_row(mark, Text(display_id(result, item), style="red"), str(item.line or ""), item.given,
                      item.expected, slip, "\n".join(item.formula))
    con.print(t)
    style = "green" if result.ok else "bold red"
    con.print(Text(f"{result.passed} of {result.total} answers right"
                   + (f", {result.failed} wrong" if result.failed else ""), style=style))
