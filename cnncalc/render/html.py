"""One self-contained HTML file: the diagram, totals, charts and the per-layer table (sortable,
filterable). Everything is inline (no request leaves the page). Formatting only.

On load the page checks its own diagrams (every box's bounding rectangle against the others, text
that overflows its box, script errors) and writes the verdict, as JSON, into #cnncalc-selfcheck;
tests/test_browser.py reads it back from a headless browser.
"""
from __future__ import annotations

from fractions import Fraction
from html import escape

from ..analysis.layout import Diagram
from ..analysis.report import Report
from . import charts
from .svg import render_svg
from .tables import human, rf_text, rows_at_depth, shape

CSS = """
body{font-family:'DejaVu Sans',Arial,sans-serif;margin:18px;color:#222;max-width:1500px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #ccc}
.muted{color:#555;font-size:13px} nav a{margin-right:14px}
.scroll{overflow:auto;max-height:85vh;border:1px solid #ddd;background:#fff}
table{border-collapse:collapse;font-size:12.5px} td,th{padding:3px 8px;border-bottom:1px solid #eee;white-space:nowrap} td:last-child{white-space:normal}
th{background:#f2f2f2;text-align:left;position:sticky;top:0}
table.sortable th{cursor:pointer} table.sortable th:hover{background:#e4e4e4}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.block td{font-weight:bold;background:#f4f8fd}
tr.hit td{background:#ffe9a8}
.side{display:flex;gap:18px;align-items:flex-start}
.side > div{flex:1 1 0;min-width:380px;overflow-x:auto}
input.filter{margin:6px 0;padding:4px 8px;width:320px}
.charts svg{display:block;margin:8px 0}
"""

HEAD_JS = """window.__cnncalcErrors=[];
window.addEventListener('error',function(e){window.__cnncalcErrors.push(String(e.message||(e.target&&e.target.outerHTML)))},true);
(function(){var ce=console.error;console.error=function(){window.__cnncalcErrors.push(Array.prototype.join.call(arguments,' '));ce.apply(console,arguments)}})();"""

BODY_JS = """
function cnncalcSort(th){var t=th.closest('table'),b=t.tBodies[0],i=th.cellIndex,rows=Array.from(b.rows);
 var dir=th.dataset.dir==='asc'?'desc':'asc';t.querySelectorAll('th').forEach(function(h){h.dataset.dir=''});th.dataset.dir=dir;
 rows.sort(function(x,y){var a=x.cells[i].dataset.v,c=y.cells[i].dataset.v,r;
  if(a!==undefined&&c!==undefined){r=parseFloat(a)-parseFloat(c)}else{r=x.cells[i].textContent.localeCompare(y.cells[i].textContent)}
  return dir==='asc'?r:-r});rows.forEach(function(r){b.appendChild(r)})}
document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){cnncalcSort(th)})});
document.querySelectorAll('input.filter').forEach(function(inp){inp.addEventListener('input',function(){
 var q=inp.value.toLowerCase(),t=document.getElementById(inp.dataset.table);
 Array.from(t.tBodies[0].rows).forEach(function(r){r.style.display=r.textContent.toLowerCase().indexOf(q)>=0?'':'none'})})});
document.querySelectorAll('svg.diagram g.box').forEach(function(g){g.style.cursor='pointer';g.addEventListener('click',function(){
 var host=g.closest('.netcol')||document,row=Array.from(host.querySelectorAll('table.sortable tbody tr')).find(function(r){return r.cells[0].textContent===g.dataset.name});
 if(!row)return;var d=row.closest('details');if(d)d.open=true;row.style.display='';row.scrollIntoView({block:'center'});
 row.classList.add('hit');setTimeout(function(){row.classList.remove('hit')},1500)})});
window.addEventListener('load',function(){var out={diagrams:[],errors:window.__cnncalcErrors};
 document.querySelectorAll('svg.diagram').forEach(function(svg){
  var boxes=Array.from(svg.querySelectorAll('g.box')),rs=boxes.map(function(g){return g.querySelector('rect').getBoundingClientRect()}),ov=0,spill=0;
  for(var i=0;i<rs.length;i++){for(var j=i+1;j<rs.length;j++){var a=rs[i],b=rs[j];
   if(a.left<b.right-0.5&&b.left<a.right-0.5&&a.top<b.bottom-0.5&&b.top<a.bottom-0.5)ov++}}
  boxes.forEach(function(g,k){g.querySelectorAll('text').forEach(function(t){var r=t.getBoundingClientRect();
   if(r.right>rs[k].right+0.5||r.left<rs[k].left-0.5||r.bottom>rs[k].bottom+0.5||r.top<rs[k].top-0.5)spill++})});
  out.diagrams.push({boxes:rs.length,overlaps:ov,overflowing_text:spill,empty:rs.filter(function(r){return r.width<1||r.height<1}).length})});
 document.getElementById('cnncalc-selfcheck').textContent=JSON.stringify(out)});
"""


def q(text) -> str:
    return escape(str(text), quote=True)


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{q(title)}</title><script>{HEAD_JS}</script><style>{CSS}</style></head>\n<body>\n{body}\n"
            f'<pre id="cnncalc-selfcheck" hidden></pre>\n<script>{BODY_JS}</script>\n</body></html>\n')


def diagram_page(diagram: Diagram) -> str:
    """`cnncalc draw -o net.html`: the diagram alone."""
    return page(diagram.title, f"<h1>{q(diagram.title)}</h1>\n<div class=\"scroll\">{render_svg(diagram, 'd0', False)}</div>")


def num_cell(v: int | float | None, unit: str = "") -> str:
    if v is None:
        return '<td class="n" data-v="-1">–</td>'
    text = f"{v:,}" if not unit else human(v, unit)
    return f'<td class="n" data-v="{v}">{q(text)}</td>'


def totals_table(report: Report) -> str:
    t = report.totals
    rows = [("params", f"{t.params:,} ({human(t.params)})", "trainable weights, biases and BN γ/β"),
            ("buffers", f"{t.buffers:,}", "BN running statistics (non-trainable)"),
            ("MACs", f"{t.macs:,} ({human(t.macs)})", "multiply-accumulates of conv and linear layers"),
            ("FLOPs", f"{t.flops:,} ({human(t.flops)})", "= 2 × MACs"),
            ("other ops", f"{t.other_ops:,} ({human(t.other_ops)})", "pooling, BN, activations, adds"),
            ("activations", f"{t.activations:,} ({human(t.activation_bytes, 'B')} at fp32)", "every layer's output"),
            ("param memory", f"{human(t.param_bytes, 'B')}", "(params + buffers) × 4 bytes"),
            ("depth", f"{t.depth}", f"weight layers on the longest path ({t.weight_layers} weight layers, "
                                    f"{t.layers} layers in all)")]
    body = "".join(f"<tr><th>{k}</th><td class=\"n\">{q(v)}</td><td class=\"muted\">{q(note)}</td></tr>" for k, v, note in rows)
    return f'<table class="totals">{body}</table>'


LAYER_COLUMNS = ("layer", "type", "k/s p", "input", "output", "params", "MACs", "FLOPs", "activations", "RF /j", "notes")


def layer_table(report: Report, depth: int | None, tid: str) -> str:
    head = "".join(f"<th>{c}</th>" for c in LAYER_COLUMNS)
    rows = []
    for kind, r in rows_at_depth(report, depth):
        if kind == "block":
            rows.append(f'<tr class="block"><td>{q(r.name)}</td><td>[{q(r.type)}]</td><td>{r.layers} layers</td>'
                        f"<td>{q(shape(r.input))}</td><td>{q(shape(r.output))}</td>{num_cell(r.params)}"
                        f'{num_cell(r.macs)}{num_cell(r.flops)}{num_cell(None)}<td data-v="{float(Fraction(r.rf.size)):g}">'
                        f"{q(rf_text(r.rf))}</td><td></td></tr>")
            continue
        source = f"{len(r.inputs)} inputs" if r.inputs else shape(r.input)
        rows.append(f"<tr><td>{q(r.name)}</td><td>{q(r.type)}</td><td>{q(r.config)}</td><td>{q(source)}</td>"
                    f"<td>{q(shape(r.output))}</td>{num_cell(r.params)}{num_cell(r.macs)}{num_cell(r.flops)}"
                    f'{num_cell(r.activations)}<td data-v="{float(Fraction(r.rf.size)):g}">{q(rf_text(r.rf))}</td>'
                    f"<td>{q('; '.join(r.notes))}</td></tr>")
    return (f'<input class="filter" id="filter-{tid}" data-table="{tid}" placeholder="filter layers (name, kind, note…)">'
            f'<table class="sortable" id="{tid}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            '<p class="muted">Click a column to sort; type to filter; click a box in the diagram to find its row. Shapes C×H×W per sample; RF /j = receptive '
            "field size / effective stride (H axis, or H×W where they differ).</p>")


def chart_section(report: Report, stages) -> str:
    rows = report.layers
    names = [r.name for r in rows]
    parts = [charts.columns("MACs per layer", names, [r.macs for r in rows]),
             charts.columns("params per layer", names, [r.params for r in rows], color="#59a14f"),
             charts.columns("activation memory per layer (fp32)", names, [4 * r.activations for r in rows], "B",
                            color="#f28e2b")]
    if stages:
        labels = [s.resolution for s in stages]
        parts.append(charts.bars("per stage (layers grouped by output resolution)", labels, [
            ("MACs", [s.macs for s in stages], "#4e79a7"), ("params", [s.params for s in stages], "#59a14f"),
            ("activation memory", [4 * s.activations for s in stages], "#f28e2b")]))
    spatial = report.input[1:] if len(report.input) > 1 else [1]
    # a field after a transposed conv or an upsampling may be a fraction, written "11/2"
    parts.append(charts.rf_line(names, [float(Fraction(r.rf.size)) for r in rows], spatial[0]))
    return '<div class="charts">' + "".join(parts) + "</div>"


def header(report: Report) -> str:
    batch = f", batch {report.batch}" if report.batch != 1 else ""
    return (f"<h1>{q(report.name)}</h1><p>input {q(shape(report.input))}{batch} → output {q(shape(report.output))}"
            + (f" — {q(report.file)}" if report.file else "") + "</p>"
            + (f'<p class="muted">source: {q(report.source)}</p>' if report.source else ""))


def conventions(report: Report) -> str:
    return f'<p class="muted"><b>Conventions:</b> {q(report.conventions)}</p>'


def report_page(report: Report, diagram: Diagram, stages, depth: int | None = None) -> str:
    """`cnncalc analyze ARCH --html FILE`."""
    misaligned = "".join(f"<li>{q(m)}</li>" for m in report.misaligned)
    body = (header(report) + conventions(report)
            + '<nav><a href="#totals">totals</a><a href="#diagram">diagram</a><a href="#charts">charts</a>'
            '<a href="#layers">layers</a></nav>'
            + f'<h2 id="totals">Totals</h2>{totals_table(report)}'
            + (f"<p>misaligned paths:</p><ul>{misaligned}</ul>" if misaligned else "")
            + f'<h2 id="diagram">Diagram</h2><div class="scroll">{render_svg(diagram, "d0", False)}</div>'
            + f'<h2 id="charts">Charts</h2>{chart_section(report, stages)}'
            + f'<h2 id="layers">Layers</h2>{layer_table(report, depth, "layers0")}')
    return page(f"{report.name} — cnncalc", body)


def compare_page(comparison, items) -> str:
    """`cnncalc compare A B --html FILE`: the summary table, then each network's totals and diagram side by side.
    `items` is a list of (report, diagram, stages)."""
    head = "".join(f"<th>{c}</th>" for c in ("architecture", "input", "params", "MACs", "FLOPs",
                                               "activations (fp32)", "depth", "final RF", "ratio"))
    rows = "".join(
        f"<tr><td>{q(r.name)}</td><td>{q(shape(r.input))}</td>{num_cell(r.params)}{num_cell(r.macs)}"
        f"{num_cell(r.flops)}{num_cell(r.activation_bytes, 'B')}{num_cell(r.depth)}{num_cell(r.final_rf)}"
        f'<td class="n" data-v="{r.ratio}">{r.ratio:.3g}×</td></tr>' for r in comparison.rows)
    cols = []
    for k, (report, diagram, stages) in enumerate(items):
        cols.append(f'<div class="netcol">{header(report)}{totals_table(report)}<h2>Diagram</h2>'
                    f'<div class="scroll">{render_svg(diagram, f"d{k}", False)}</div>'
                    f"<details><summary>charts</summary>{chart_section(report, stages)}</details>"
                    f"<details><summary>layers</summary>{layer_table(report, None, f'layers{k}')}</details></div>")
    body = (f"<h1>{q(' vs '.join(r.title for r in comparison.rows))}</h1>{conventions(items[0][0])}"
            f'<h2>Side by side</h2><table class="sortable" id="summary"><thead><tr>{head}</tr></thead>'
            f'<tbody>{rows}</tbody></table><p class="muted">ratio: {q(comparison.metric)} against the first.</p>'
            f'<div class="side">{"".join(cols)}</div>')
    return page("compare — cnncalc", body)
