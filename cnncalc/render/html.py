"""One self-contained HTML file: the diagram, totals, charts and the per-layer table (sortable,
filterable). Everything is inline (no request leaves the page). Formatting only.

On load the page checks its own diagrams (every box's bounding rectangle against the others, text
that overflows its box, script errors) and writes the verdict, as JSON, into #cnncalc-selfcheck;
tests/test_browser.py reads it back from a headless browser.
"""
from __future__ import annotations

import json
from fractions import Fraction
from html import escape

from ..analysis.layout import Diagram
from ..analysis.report import Report
from ..analysis import breakdown
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
tr.hit td{background:#ffe9a8} tr.selected td{background:#fff3c9;outline:1px solid #e0b84a}
.side{display:flex;gap:18px;align-items:flex-start}
.side > div{flex:1 1 0;min-width:380px;overflow-x:auto}
input.filter{margin:6px 0;padding:4px 8px;width:320px}
.charts svg{display:block;margin:8px 0}
svg.maps{display:block;width:100%;height:auto;max-width:1400px}
.viewer{position:relative;border:1px solid #ccc;background:#fff}
.viewer .tools{display:flex;gap:6px;align-items:center;padding:4px 6px;border-bottom:1px solid #ddd;background:#f7f7f7;font-size:13px}
.viewer .tools button{min-width:30px;padding:2px 8px;cursor:pointer}
.viewer .tools input{padding:3px 6px;width:220px}
.viewer .stage{height:78vh;overflow:hidden;cursor:grab;outline:none;touch-action:none}
.viewer .stage:focus{box-shadow:inset 0 0 0 2px #9cc3f0}
.viewer .stage svg.diagram{display:block;width:100%;height:100%}
.viewer .minimap{position:absolute;right:8px;top:42px;width:110px;height:220px;border:1px solid #999;background:rgba(255,255,255,.92);cursor:pointer}
.viewer .minimap svg{width:100%;height:100%;display:block}
.card{position:fixed;z-index:10;background:#fffef5;border:1px solid #b9a;box-shadow:0 2px 8px rgba(0,0,0,.2);padding:6px 8px;font-size:12px;width:max-content;max-width:92vw;pointer-events:none}
.card table{font-size:12px} .card td,.card th{padding:1px 6px} .card td:last-child{white-space:normal;max-width:260px}
g.box.found rect{stroke:#e67e22;stroke-width:3}
.error{background:#fdecea;color:#8a1c12;border:1px solid #e6a39c;padding:6px 10px;font-family:monospace;white-space:pre-wrap}
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
function cnncalcTables(root){root.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){cnncalcSort(th)})});
 root.querySelectorAll('input.filter').forEach(function(inp){inp.addEventListener('input',function(){
 var q=inp.value.toLowerCase(),t=document.getElementById(inp.dataset.table);
 Array.from(t.tBodies[0].rows).forEach(function(r){r.style.display=r.textContent.toLowerCase().indexOf(q)>=0?'':'none'})})})}
function cnncalcView(v){
 var stage=v.querySelector('.stage'),svg=stage.querySelector('svg.diagram');if(!svg||v.dataset.ready)return;v.dataset.ready='1';
 var full=svg.viewBox.baseVal,W=full.width,H=full.height,vb={x:0,y:0,w:W,h:H};svg.removeAttribute('width');svg.removeAttribute('height');
 var data=JSON.parse((v.querySelector('script.boxdata')||{}).textContent||'{}'),card=v.querySelector('.card'),mini=null,lens=null;
 function set(b){vb=b;svg.setAttribute('viewBox',b.x+' '+b.y+' '+b.w+' '+b.h);v.dataset.view=JSON.stringify(b);if(lens){lens.setAttribute('x',b.x);lens.setAttribute('y',b.y);lens.setAttribute('width',b.w);lens.setAttribute('height',b.h);mini.hidden=b.w>=W&&b.h>=H}}
 function fit(){set({x:0,y:0,w:W,h:H})}
 function pt(cx,cy){var p=svg.createSVGPoint();p.x=cx;p.y=cy;return p.matrixTransform(svg.getScreenCTM().inverse())}
 function zoom(f,cx,cy){var r=stage.getBoundingClientRect();if(cx===undefined){cx=r.left+r.width/2;cy=r.top+r.height/2}
  var p=pt(cx,cy),w=Math.min(Math.max(vb.w*f,40),W*4),k=w/vb.w;set({x:p.x-(p.x-vb.x)*k,y:p.y-(p.y-vb.y)*k,w:w,h:vb.h*k})}
 function pan(dx,dy){var s=1/svg.getScreenCTM().a;set({x:vb.x-dx*s,y:vb.y-dy*s,w:vb.w,h:vb.h})}
 function centre(p,scale){var r=stage.getBoundingClientRect(),w=r.width*scale,h=r.height*scale;set({x:p.x-w/2,y:p.y-h/2,w:w,h:h})}
 v.cnncalc={fit:fit,zoom:zoom,pan:pan,set:set,get:function(){return vb}};
 v.querySelectorAll('button[data-act]').forEach(function(b){b.addEventListener('click',function(){var a=b.dataset.act;if(a==='fit')fit();else zoom(a==='in'?1/1.25:1.25)})});
 stage.addEventListener('wheel',function(e){e.preventDefault();zoom(Math.exp(e.deltaY*0.0015),e.clientX,e.clientY)},{passive:false});
 var drag=null;stage.addEventListener('pointerdown',function(e){drag={x:e.clientX,y:e.clientY,moved:0};stage.focus({preventScroll:true})});
 window.addEventListener('pointermove',function(e){if(!drag)return;var dx=e.clientX-drag.x,dy=e.clientY-drag.y;drag.moved+=Math.abs(dx)+Math.abs(dy);drag.x=e.clientX;drag.y=e.clientY;if(drag.moved>3)pan(dx,dy)});
 window.addEventListener('pointerup',function(){setTimeout(function(){drag=null},0)});
 stage.addEventListener('keydown',function(e){var k=e.key,r=stage.getBoundingClientRect();
  if(k==='+'||k==='=')zoom(1/1.25);else if(k==='-'||k==='_')zoom(1.25);else if(k==='0')fit();
  else if(k==='ArrowLeft')pan(r.width/5,0);else if(k==='ArrowRight')pan(-r.width/5,0);else if(k==='ArrowUp')pan(0,r.height/5);else if(k==='ArrowDown')pan(0,-r.height/5);else return;e.preventDefault()});
 var find=v.querySelector('input.find');if(find)find.addEventListener('change',function(){var t=find.value.trim().toLowerCase();if(!t)return;
  var gs=Array.from(svg.querySelectorAll('g.box')),g=gs.find(function(g){return g.dataset.name.toLowerCase()===t})||gs.find(function(g){return g.dataset.name.toLowerCase().indexOf(t)>=0});
  svg.querySelectorAll('g.box.found').forEach(function(x){x.classList.remove('found')});if(!g){find.setCustomValidity('no such layer');find.reportValidity();return}
  find.setCustomValidity('');g.classList.add('found');var r=g.querySelector('rect').getBoundingClientRect();centre(pt(r.left+r.width/2,r.top+r.height/2),1)});
 function cell(tr,tag,text){var c=document.createElement(tag);c.textContent=text;tr.appendChild(c)}
 svg.querySelectorAll('g.box').forEach(function(g){var d=data[g.dataset.name];g.style.cursor='pointer';
  g.addEventListener('mouseenter',function(e){if(!d||!card)return;card.textContent='';var h=document.createElement('b');h.textContent=g.dataset.name;card.appendChild(h);
   var t=document.createElement('table'),tr=document.createElement('tr');d.head.forEach(function(x){cell(tr,'th',x)});t.appendChild(tr);
   d.rows.forEach(function(r){var tr=document.createElement('tr');r.forEach(function(x){cell(tr,'td',x)});t.appendChild(tr)});card.appendChild(t);
   if(d.more){var m=document.createElement('div');m.textContent=d.more;card.appendChild(m)}card.hidden=false;move(e)});
  g.addEventListener('mousemove',move);g.addEventListener('mouseleave',function(){if(card)card.hidden=true});
  g.addEventListener('click',function(){if(drag&&drag.moved>3)return;var host=v.closest('.netcol')||document,name=g.dataset.row||g.dataset.name,
   row=Array.from(host.querySelectorAll('table.sortable tbody tr')).find(function(r){return r.cells[0].textContent===name});
   host.querySelectorAll('tr.selected').forEach(function(r){r.classList.remove('selected')});
   if(!row)return;var dd=row.closest('details');if(dd)dd.open=true;row.style.display='';row.classList.add('selected','hit');
   row.scrollIntoView({block:'center'});setTimeout(function(){row.classList.remove('hit')},1500)})});
 function move(e){if(!card||card.hidden)return;var x=e.clientX+14,y=e.clientY+14,w=card.offsetWidth,h=card.offsetHeight;
  if(x+w>window.innerWidth)x=Math.max(0,e.clientX-w-14);if(y+h>window.innerHeight)y=Math.max(0,e.clientY-h-14);card.style.left=x+'px';card.style.top=y+'px'}
 if(H>2*window.innerHeight){var ns='http://www.w3.org/2000/svg';mini=document.createElement('div');mini.className='minimap';
  var ms=document.createElementNS(ns,'svg');ms.setAttribute('viewBox','0 0 '+W+' '+H);ms.setAttribute('preserveAspectRatio','xMidYMid meet');
  var u=document.createElementNS(ns,'use');u.setAttribute('href','#'+svg.dataset.root);ms.appendChild(u);
  lens=document.createElementNS(ns,'rect');lens.setAttribute('fill','rgba(66,133,244,.18)');lens.setAttribute('stroke','#1a73e8');lens.setAttribute('stroke-width',W/110*2);
  ms.appendChild(lens);mini.appendChild(ms);v.appendChild(mini);
  function jump(e){var p=ms.createSVGPoint();p.x=e.clientX;p.y=e.clientY;p=p.matrixTransform(ms.getScreenCTM().inverse());set({x:p.x-vb.w/2,y:p.y-vb.h/2,w:vb.w,h:vb.h})}
  var down=false;mini.addEventListener('pointerdown',function(e){down=true;jump(e)});mini.addEventListener('pointermove',function(e){if(down)jump(e)});window.addEventListener('pointerup',function(){down=false})}
 var keep=v.dataset.keep;if(keep){set(JSON.parse(keep))}else fit()}
function cnncalcInit(root){cnncalcTables(root);root.querySelectorAll('.viewer').forEach(cnncalcView)}
cnncalcInit(document);
window.addEventListener('load',function(){var out={diagrams:[],errors:window.__cnncalcErrors};
 document.querySelectorAll('svg.diagram').forEach(function(svg){
  var bb=function(e){var b=e.getBBox();return {left:b.x,top:b.y,right:b.x+b.width,bottom:b.y+b.height,width:b.width,height:b.height}};
  var boxes=Array.from(svg.querySelectorAll('g.box')),rs=boxes.map(function(g){return bb(g.querySelector('rect'))}),ov=0,spill=0;
  for(var i=0;i<rs.length;i++){for(var j=i+1;j<rs.length;j++){var a=rs[i],b=rs[j];
   if(a.left<b.right-0.5&&b.left<a.right-0.5&&a.top<b.bottom-0.5&&b.top<a.bottom-0.5)ov++}}
  boxes.forEach(function(g,k){g.querySelectorAll('text').forEach(function(t){var r=bb(t);
   if(r.right>rs[k].right+0.5||r.left<rs[k].left-0.5||r.bottom>rs[k].bottom+0.5||r.top<rs[k].top-0.5)spill++})});
  out.diagrams.push({boxes:rs.length,overlaps:ov,overflowing_text:spill,empty:rs.filter(function(r){return r.width<1||r.height<1}).length})});
 document.getElementById('cnncalc-selfcheck').textContent=JSON.stringify(out)});
"""


LIVE_JS = r"""(function(){var ver=+document.body.dataset.version,box=document.getElementById('cnncalc-live');
function show(e){box.hidden=!e;box.textContent=e?'error (the last good drawing stays): '+e:''}
function swap(html){var doc=new DOMParser().parseFromString(html,'text/html'),fresh=doc.getElementById('cnncalc-report'),
 old=document.getElementById('cnncalc-report');if(!fresh||!old)return;var keep={},y=window.scrollY;
 old.querySelectorAll('.viewer').forEach(function(v){if(v.dataset.view)keep[v.id]=v.dataset.view});
 fresh=document.adoptNode(fresh);fresh.querySelectorAll('.viewer').forEach(function(v){if(keep[v.id])v.dataset.keep=keep[v.id]});
 old.replaceWith(fresh);cnncalcInit(fresh);window.scrollTo(0,y);document.body.dataset.shown=ver}
function tick(){fetch('/state',{cache:'no-store'}).then(function(r){return r.json()}).then(function(s){
 if(s.version===ver)return;ver=s.version;show(s.error);if(s.error)return;
 return fetch('/page',{cache:'no-store'}).then(function(r){return r.text()}).then(swap)})
 .catch(function(){}).then(function(){setTimeout(tick,250)})}
setTimeout(tick,250)})();"""


def q(text) -> str:
    return escape(str(text), quote=True)


def live_page(html: str, path: str, version: int) -> str:
    """`cnncalc serve`: the report page, polling its server (cnncalc.serve.live) and updating in place."""
    banner = (f'<p class="muted">live: showing {q(path)}; save the file and this page follows '
              f'(zoom and position kept)</p><div id="cnncalc-live" class="error" hidden></div>')
    body = html.index("<body>") + len("<body>")
    html = html[:body].replace("<body>", f'<body data-version="{version}" data-shown="{version}">') + banner + html[body:]
    return html.replace("</body>", f"<script>{LIVE_JS}</script>\n</body>")


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{q(title)}</title><script>{HEAD_JS}</script><style>{CSS}</style></head>\n<body>\n{body}\n"
            f'<pre id="cnncalc-selfcheck" hidden></pre>\n<script>{BODY_JS}</script>\n</body></html>\n')


def diagram_page(diagram: Diagram, report: Report) -> str:
    """`cnncalc draw -o net.html`: the diagram alone, navigable."""
    return page(diagram.title, f"<h1>{q(diagram.title)}</h1>\n{viewer(diagram, report, 'd0')}")


CARD_HEAD = ("layer", "type", "k/s p", "input", "output", "params", "MACs", "FLOPs", "RF /j", "notes")
CARD_ROWS = 12      # a box's layers listed on its card; the table has the rest


def viewer(diagram: Diagram, report: Report, uid: str) -> str:
    """The diagram in a pan-and-zoom frame: +/−/fit buttons, a search box, a minimap for tall graphs, and per
    box the figures its hover card shows (JSON, every character that could close the script escaped)."""
    data = {}
    for b in diagram.boxes:
        rows = [report.layers[n] for n in b.nodes]
        data[b.id] = {"head": CARD_HEAD, "rows": [
            [r.name, r.type, r.config, f"{len(r.inputs)} inputs" if r.inputs else shape(r.input), shape(r.output),
             f"{r.params:,}", human(r.macs), human(r.flops), rf_text(r.rf), "; ".join(r.notes)] for r in rows[:CARD_ROWS]],
            "more": f"… and {len(rows) - CARD_ROWS} more layers (the table lists them)" if len(rows) > CARD_ROWS else ""}
        if b.kind == "input":
            data[b.id]["rows"] = [["input", "", "", "", shape(report.input), "", "", "", "", ""]]
    blob = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    names = "".join(f'<option value="{q(b.id)}">' for b in diagram.boxes)
    return (f'<div class="viewer" id="{uid}-view"><div class="tools">'
            '<button type="button" data-act="in" title="zoom in (+)">+</button>'
            '<button type="button" data-act="out" title="zoom out (−)">−</button>'
            '<button type="button" data-act="fit" title="the whole network (0)">fit</button>'
            f'<input class="find" list="{uid}-names" placeholder="find a layer (Enter)" aria-label="find a layer">'
            f'<datalist id="{uid}-names">{names}</datalist>'
            '<span class="muted">wheel or +/−: zoom · drag or arrows: pan · 0: fit · hover a box: its figures · '
            'click: its table row</span></div>'
            f'<div class="stage" tabindex="0">{render_svg(diagram, uid, False)}</div>'
            f'<div class="card" hidden></div><script type="application/json" class="boxdata">{blob}</script></div>')


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


def layer_table(report: Report, depth: int | None, tid: str, interactive: bool = True) -> str:
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
    table = f'<table class="sortable" id="{tid}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    legend = ("Shapes C×H×W per sample; RF /j = receptive field size / effective stride (H axis, or H×W where they "
              "differ).")
    if not interactive:   # a notebook's output: no script runs there
        return f'{table}<p class="muted">{legend}</p>'
    return (f'<input class="filter" id="filter-{tid}" data-table="{tid}" placeholder="filter layers (name, kind, note…)">'
            f'{table}<p class="muted">Click a column to sort; type to filter; click a box in the diagram to find its '
            f'row. {legend}</p>')


def chart_section(report: Report, stages, depth: int | None = None) -> str:
    """Per layer (or per block at `depth`) MACs, params, activation memory and receptive field; per
    resolution level (`stages`, cnncalc.analysis.breakdown.levels) the three sums."""
    rows = breakdown.rows(report, depth)
    names = [r.name for r in rows]
    xaxis = f"blocks at level {depth} and layers, in data order" if depth else "layers in data order"
    parts = [charts.columns("MACs per layer" + (" or block" if depth else ""), names, [r.macs for r in rows],
                            axis="MACs (multiply-adds)", xaxis=xaxis),
             charts.columns("params per layer" + (" or block" if depth else ""), names, [r.params for r in rows],
                            color="#59a14f", axis="parameters", xaxis=xaxis),
             charts.columns("activation memory per layer" + (" or block" if depth else "") + " (fp32)", names,
                            [4 * r.activations for r in rows], "B", color="#f28e2b", axis="bytes", xaxis=xaxis)]
    if stages:
        labels = [s.resolution for s in stages]
        parts.append(charts.bars("per stage (resolution level: halvings below the input, the map sizes it spans)",
                                 labels, [("MACs", [s.macs for s in stages], "#4e79a7"),
                                          ("params", [s.params for s in stages], "#59a14f"),
                                          ("activation memory", [4 * s.activations for s in stages], "#f28e2b")],
                                 label_w=max(90, 7 * max(len(t) for t in labels) + 10)))
    spatial = report.input[1:] if len(report.input) > 1 else [1]
    parts.append(charts.rf_line(names, [r.rf for r in rows], spatial[0], xaxis=xaxis))
    return '<div class="charts">' + "".join(parts) + "</div>"


def outputs_text(report: Report) -> str:
    """'output 1000', or every output by name: 'outputs out 21×520×520, aux 21×520×520'."""
    if not report.outputs:
        return f"output {shape(report.output)}"
    return "outputs " + ", ".join(f"{o.name} {shape(o.output)}" for o in report.outputs)


def header(report: Report) -> str:
    batch = f", batch {report.batch}" if report.batch != 1 else ""
    return (f"<h1>{q(report.name)}</h1><p>input {q(shape(report.input))}{batch} → {q(outputs_text(report))}"
            + (f" — {q(report.file)}" if report.file else "") + "</p>"
            + (f'<p class="muted">source: {q(report.source)}</p>' if report.source else ""))


def conventions(report: Report) -> str:
    return f'<p class="muted"><b>Conventions:</b> {q(report.conventions)}</p>'


def notebook_html(report: Report) -> str:
    """A Report in a notebook (`_repr_html_`): the header, the totals and the per-layer table, no script."""
    misaligned = "".join(f"<li>{q(m)}</li>" for m in report.misaligned)
    return (f'<div class="cnncalc">{header(report)}{conventions(report)}{totals_table(report)}'
            + (f"<ul>{misaligned}</ul>" if misaligned else "")
            + f'{layer_table(report, None, "cnncalc-layers", interactive=False)}</div>')


def report_page(report: Report, diagram: Diagram, stages, depth: int | None = None) -> str:
    """`cnncalc analyze ARCH --html FILE`."""
    misaligned = "".join(f"<li>{q(m)}</li>" for m in report.misaligned)
    body = ('<main id="cnncalc-report">' + header(report) + conventions(report)
            + '<nav><a href="#totals">totals</a><a href="#diagram">diagram</a><a href="#charts">charts</a>'
            '<a href="#layers">layers</a></nav>'
            + f'<h2 id="totals">Totals</h2>{totals_table(report)}'
            + (f"<p>misaligned paths:</p><ul>{misaligned}</ul>" if misaligned else "")
            + f'<h2 id="diagram">Diagram</h2>{viewer(diagram, report, "d0")}'
            + f'<h2 id="charts">Charts</h2>{chart_section(report, stages, depth)}'
            + f'<h2 id="layers">Layers</h2>{layer_table(report, depth, "layers0")}</main>')
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
                    f'{viewer(diagram, report, f"d{k}")}'
                    f"<details><summary>charts</summary>{chart_section(report, stages)}</details>"
                    f"<details><summary>layers</summary>{layer_table(report, None, f'layers{k}')}</details></div>")
    names = [r.title for r in comparison.rows]
    chart = charts.bars("the networks side by side", names, [
        ("params", [r.params for r in comparison.rows], "#59a14f"), ("MACs", [r.macs for r in comparison.rows], "#4e79a7"),
        ("activation memory", [r.activation_bytes for r in comparison.rows], "#f28e2b")],
        label_w=max(90, 7 * max(len(t) for t in names) + 10))
    body = (f"<h1>{q(' vs '.join(names))}</h1>{conventions(items[0][0])}"
            f'<h2>Side by side</h2><table class="sortable" id="summary"><thead><tr>{head}</tr></thead>'
            f'<tbody>{rows}</tbody></table><p class="muted">ratio: {q(comparison.metric)} against the first.</p>'
            f'<div class="charts">{chart}</div>'
            f'<div class="side">{"".join(cols)}</div>')
    return page("compare — cnncalc", body)
