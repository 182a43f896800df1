/* biorel viewer: renders biorel documents (Document.to_dict()) with their
 * mentions, relations, evidence and attributions.
 *
 * Used twice, with no build step and nothing fetched from elsewhere:
 *  - by the `biorel serve` page (index.html): paste text or drop a file, ask
 *    POST v1/extract, show the result;
 *  - inlined into `biorel view` pages: the documents are embedded in
 *    <script type="application/json" id="biorel-data">, and each mention and
 *    relation may carry a `status` (tp, fp, fn, partial, ignored, ctx) computed
 *    by biorel's scorer in Python; this file only shows it.
 *
 * Text is always inserted with textContent, never as HTML.
 */
(function () {
  "use strict";

  // ---- small DOM helpers ---------------------------------------------------------------
  function el(tag, props, children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === "class") node.className = v;
        else if (k === "text") node.textContent = v;
        else if (k === "dataset") Object.assign(node.dataset, v);
        else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
        else if (k in node && typeof v !== "string") node[k] = v;
        else node.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const c of [].concat(children || [])) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function svgEl(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }

  function fmtScore(s) {
    return typeof s === "number" && isFinite(s) ? s.toFixed(3) : "—";
  }

  // ---- colours ---------------------------------------------------------------------------
  const KNOWN_TYPES = {
    chemical: ["#bfe3ff", "#2b7bba"],
    disease: ["#ffd0df", "#c2185b"],
    gene: ["#c9f0c2", "#2e7d32"],
    geneorgeneproduct: ["#c9f0c2", "#2e7d32"],
    protein: ["#c9f0c2", "#2e7d32"],
    species: ["#e6d4fa", "#6a1b9a"],
    organismtaxon: ["#e6d4fa", "#6a1b9a"],
    variant: ["#ffe0c2", "#d35400"],
    sequencevariant: ["#ffe0c2", "#d35400"],
    cellline: ["#c8f1ea", "#00796b"],
    drug: ["#bfe3ff", "#2b7bba"],
  };
  const EXTRA_TYPES = [
    ["#fff0b3", "#9a7d00"],
    ["#dfe6ee", "#455a64"],
    ["#f9d5c5", "#a0401c"],
    ["#d7ecff", "#1565c0"],
    ["#eadcf8", "#7b1fa2"],
    ["#d9f2d0", "#558b2f"],
  ];
  function typeColours(type) {
    const key = String(type || "").toLowerCase().replace(/[^a-z]/g, "");
    if (KNOWN_TYPES[key]) return KNOWN_TYPES[key];
    let h = 0;
    for (const ch of key) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return EXTRA_TYPES[h % EXTRA_TYPES.length];
  }

  const STATUS = {
    tp: { label: "true positive", colour: "#1a9850" },
    fp: { label: "false positive", colour: "#d73027" },
    fn: { label: "missed (false negative)", colour: "#7b3294" },
    partial: { label: "partly matched", colour: "#e6ab02" },
    ignored: { label: "not scored by the protocol", colour: "#9e9e9e" },
  };
  const EVIDENCE_RGBA = "rgba(255, 214, 0, 0.42)";
  function attributionRgba(w) {
    const a = 0.78 * Math.max(0, Math.min(1, w)); // the weight alone: a token of weight ~0 stays unshaded
    return `rgba(244, 81, 30, ${a.toFixed(3)})`;
  }

  // ---- the document model ------------------------------------------------------------------
  /** The passages laid out at their offsets, gaps read as spaces (as Document.text). */
  function documentText(doc) {
    const passages = (doc.passages || []).slice().sort((a, b) => a.offset - b.offset);
    let out = "";
    for (const p of passages) {
      const text = String(p.text || "");
      if (p.offset > out.length) out += " ".repeat(p.offset - out.length);
      if (p.offset < out.length) out += text.slice(out.length - p.offset);
      else out += text;
    }
    return out;
  }

  function cleanSpans(spans, n) {
    const out = [];
    for (const s of spans || []) {
      if (!Array.isArray(s) || s.length < 2) continue;
      const a = Math.max(0, Math.min(n, Number(s[0]))), b = Math.max(0, Math.min(n, Number(s[1])));
      if (Number.isFinite(a) && Number.isFinite(b) && a < b) out.push([a, b]);
    }
    return out.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  }

  /** A mention row [id, spans, type, status, score, rest] (biorel view pages) as a mention dict. */
  function unpackMention(m) {
    if (!Array.isArray(m)) return m;
    const [id, spans, type, status, score, rest] = m;
    const out = Object.assign({ id, spans, type }, rest || {});
    if (status) out.status = status;
    if (typeof score === "number") out.infons = Object.assign({}, out.infons || {}, { score });
    return out;
  }

  /** Index a document dict for rendering. */
  function prepare(doc) {
    const text = documentText(doc);
    const n = text.length;
    const mentions = (doc.mentions || []).map(unpackMention).map((m, idx) => {
      const spans = cleanSpans(m.spans, n);
      const mtext = typeof m.text === "string" ? m.text : spans.map(([a, b]) => text.slice(a, b)).join(" ");
      const start = spans.length ? spans[0][0] : 0;
      const length = spans.reduce((acc, [a, b]) => acc + (b - a), 0);
      return { raw: m, idx, id: String(m.id), type: String(m.type || ""), spans, text: mtext, start, length, status: m.status || null, gold: !!m.gold };
    });
    const byMention = new Map(mentions.map((m) => [m.id, m]));
    const entities = new Map((doc.entities || []).map((e) => [String(e.id), e]));
    function argMentions(ref, level) {
      if (level === "mention") return byMention.has(ref) ? [byMention.get(ref)] : [];
      const e = entities.get(ref);
      return e ? (e.mention_ids || []).map((id) => byMention.get(String(id))).filter(Boolean) : [];
    }
    function argLabel(ref, level, ms) {
      const e = level === "mention" ? null : entities.get(ref);
      const name = (e && e.name) || (ms.length ? ms[0].text : ref);
      const type = e ? e.type : ms.length ? ms[0].type : "";
      return { name: String(name), type: String(type || ""), ref: String(ref) };
    }
    const relations = (doc.relations || []).map((r, idx) => {
      const level = r.level === "mention" ? "mention" : "entity";
      const head = String(r.head), tail = String(r.tail);
      const headMs = argMentions(head, level), tailMs = argMentions(tail, level);
      const infons = r.infons || {};
      const attributions = [];
      for (const a of Array.isArray(infons.attributions) ? infons.attributions : []) {
        if (!Array.isArray(a) || a.length < 3) continue;
        const sp = cleanSpans([[a[0], a[1]]], n);
        const w = Number(a[2]);
        if (sp.length && Number.isFinite(w) && w > 0) attributions.push([sp[0][0], sp[0][1], Math.min(1, w)]);
      }
      return {
        raw: r, idx, id: String(r.id), type: String(r.type || ""), level, directed: !!r.directed,
        score: typeof r.score === "number" && isFinite(r.score) ? r.score : null,
        status: r.status || null, gold: !!r.gold,
        headMs, tailMs, head: argLabel(head, level, headMs), tail: argLabel(tail, level, tailMs),
        evidence: cleanSpans(r.evidence, n), attributions,
      };
    });
    const passages = (doc.passages || [])
      .map((p) => ({ start: Math.max(0, p.offset), end: Math.min(n, p.offset + String(p.text || "").length), type: String(p.type || "") }))
      .filter((p) => p.start < p.end)
      .sort((a, b) => a.start - b.start);
    const scored = mentions.some((m) => m.status) || relations.some((r) => r.status);
    return { doc, id: String(doc.id), text, mentions, relations, passages, scored, nary: (doc.nary_relations || []).length, counts: doc.counts || null };
  }

  /** Cut [from, to) at every boundary of the given spans; returns [start, end] pieces. */
  function cut(from, to, spanLists) {
    const bounds = new Set([from, to]);
    for (const spans of spanLists) for (const [a, b] of spans) {
      if (a > from && a < to) bounds.add(a);
      if (b > from && b < to) bounds.add(b);
    }
    const sorted = Array.from(bounds).sort((x, y) => x - y);
    const out = [];
    for (let i = 0; i + 1 < sorted.length; i++) out.push([sorted[i], sorted[i + 1]]);
    return out;
  }

  function covers(spans, a, b) {
    for (const [s, e] of spans) if (s <= a && b <= e) return true;
    return false;
  }

  // ---- one document: text, legend, relation table, details -----------------------------------------
  let viewCounter = 0;

  class DocumentView {
    constructor(root, options) {
      this.root = root;
      this.options = Object.assign({ threshold: 0.5, allArcs: false }, options || {});
      this.threshold = this.options.threshold;
      this.allArcs = this.options.allArcs;
      this.model = null;
      this.selected = null; // relation idx
      this.focus = null; // mention idx
      this.uid = ++viewCounter;
      this.firstSeg = new Map();
      window.addEventListener("resize", () => this.drawArcs());
    }

    setDocument(doc) {
      this.model = prepare(doc);
      this.selected = null;
      this.focus = null;
      this.render();
    }

    visible(r) {
      return r.score === null || r.score >= this.threshold - 1e-12;
    }

    select(idx) {
      this.selected = this.selected === idx ? null : idx;
      this.focus = null;
      this.refresh();
    }

    render() {
      const m = this.model;
      this.root.textContent = "";
      this.root.classList.add("bv-docview");
      if (!m) return;
      const head = el("div", { class: "bv-dochead" }, [el("h2", { class: "bv-docid", text: "Document " + m.id })]);
      if (m.counts) head.appendChild(countsLine(m.counts));
      this.legendBox = el("div", { class: "bv-legend", "aria-label": "legend" });
      this.controls = this.renderControls();
      this.svg = svgEl("svg", { class: "bv-arcs", "aria-hidden": "true" });
      this.textBox = el("div", { class: "bv-text" });
      this.textWrap = el("div", { class: "bv-textwrap" }, [this.textBox, this.svg]);
      this.tableBox = el("div", { class: "bv-relbox" });
      this.details = el("div", { class: "bv-details", "aria-live": "polite" });
      const notes = [];
      if (m.nary) notes.push(el("p", { class: "bv-muted", text: `${m.nary} relation(s) with one or three or more arguments are not shown.` }));
      this.root.append(head, this.legendBox, this.controls, this.textWrap, this.details, this.tableBox, ...notes);
      this.refresh();
    }

    renderControls() {
      const value = el("output", { class: "bv-threshold-value", text: this.threshold.toFixed(2) });
      const shown = el("span", { class: "bv-shown" });
      const slider = el("input", {
        type: "range", min: "0", max: "1", step: "0.01", value: String(this.threshold), class: "bv-threshold",
        "aria-label": "minimum relation score",
        oninput: (ev) => {
          this.threshold = Number(ev.target.value);
          value.textContent = this.threshold.toFixed(2);
          if (this.selected !== null && !this.visible(this.model.relations[this.selected])) this.selected = null;
          this.refresh();
        },
      });
      const arcs = el("input", { type: "checkbox", class: "bv-allarcs", checked: this.allArcs, onchange: (ev) => { this.allArcs = ev.target.checked; this.drawArcs(); } });
      this.shownLabel = shown;
      return el("div", { class: "bv-controls" }, [
        el("label", { class: "bv-slider" }, ["relation score ≥ ", slider, " ", value]),
        shown,
        el("label", { class: "bv-arcs-toggle" }, [arcs, " arcs for all shown relations"]),
      ]);
    }

    refresh() {
      const m = this.model;
      if (!m) return;
      const shown = m.relations.filter((r) => this.visible(r)).length;
      this.shownLabel.textContent = `${shown} of ${m.relations.length} relation${m.relations.length === 1 ? "" : "s"} shown`;
      this.renderLegend();
      this.renderText();
      this.renderTable();
      this.renderDetails();
      requestAnimationFrame(() => this.drawArcs());
    }

    renderLegend() {
      const m = this.model, box = this.legendBox;
      box.textContent = "";
      const types = Array.from(new Set(m.mentions.filter((x) => x.status !== "ctx").map((x) => x.type))).sort();
      for (const t of types) {
        const [bg, fg] = typeColours(t);
        const chip = el("span", { class: "bv-chip", text: t || "(untyped)" });
        chip.style.backgroundColor = bg;
        chip.style.boxShadow = `inset 0 -3px 0 ${fg}`;
        box.appendChild(chip);
      }
      if (m.scored) {
        const present = new Set([...m.mentions, ...m.relations].map((x) => x.status).filter((s) => s && STATUS[s]));
        for (const [k, s] of Object.entries(STATUS)) {
          if (!present.has(k)) continue;
          const chip = el("span", { class: "bv-chip bv-status-chip", text: s.label, dataset: { status: k } });
          chip.style.boxShadow = `inset 0 -3px 0 ${s.colour}`;
          box.appendChild(chip);
        }
      }
      if (m.relations.some((r) => r.evidence.length)) {
        const chip = el("span", { class: "bv-chip", text: "evidence sentence" });
        chip.style.backgroundColor = EVIDENCE_RGBA;
        box.appendChild(chip);
      }
      if (m.relations.some((r) => r.attributions.length)) {
        const chip = el("span", { class: "bv-chip", text: "attributed tokens (darker: more weight)" });
        chip.style.backgroundImage = `linear-gradient(90deg, ${attributionRgba(0.05)}, ${attributionRgba(1)})`;
        box.appendChild(chip);
      }
    }

    renderText() {
      const m = this.model, box = this.textBox;
      box.textContent = "";
      this.firstSeg = new Map();
      const rel = this.selected !== null ? m.relations[this.selected] : null;
      const heads = new Set(rel ? rel.headMs.map((x) => x.idx) : []);
      const tails = new Set(rel ? rel.tailMs.map((x) => x.idx) : []);
      // drawn: predicted mentions, missed gold mentions; context mentions only when selected
      const shown = m.mentions.filter((x) => x.spans.length && (x.status !== "ctx" || heads.has(x.idx) || tails.has(x.idx)));
      const evidence = rel ? rel.evidence : [];
      const attributions = rel ? rel.attributions : [];
      const spanLists = shown.map((x) => x.spans).concat([evidence, attributions.map(([a, b]) => [a, b])]);
      const passages = m.passages.length ? m.passages : [{ start: 0, end: m.text.length, type: "" }];
      for (const p of passages) {
        const block = el("div", { class: "bv-passage" + (p.type ? " bv-p-" + p.type.replace(/[^A-Za-z0-9_-]/g, "") : "") });
        const inside = shown.filter((x) => x.spans.some(([a, b]) => a < p.end && b > p.start));
        for (const [a, b] of cut(p.start, p.end, spanLists)) {
          block.appendChild(this.segment(a, b, inside, heads, tails, evidence, attributions));
        }
        box.appendChild(block);
      }
    }

    segment(a, b, mentions, heads, tails, evidence, attributions) {
      const m = this.model;
      const over = mentions.filter((x) => covers(x.spans, a, b)).sort((x, y) => y.length - x.length || x.idx - y.idx);
      const seg = el("span", { class: "bv-seg", text: m.text.slice(a, b) });
      const layers = [];
      let w = 0;
      for (const [s, e, weight] of attributions) if (s <= a && b <= e) w = Math.max(w, weight);
      if (w > 0) layers.push(`linear-gradient(${attributionRgba(w)}, ${attributionRgba(w)})`);
      if (covers(evidence, a, b)) {
        layers.push(`linear-gradient(${EVIDENCE_RGBA}, ${EVIDENCE_RGBA})`);
        seg.classList.add("bv-ev");
      }
      if (w > 0) {
        seg.classList.add("bv-attr");
        seg.dataset.weight = w.toFixed(3);
      }
      if (layers.length) seg.style.backgroundImage = layers.join(", ");
      if (!over.length) return seg;
      seg.classList.add("bv-m");
      seg.dataset.m = over.map((x) => x.idx).join(" ");
      if (m.scored) seg.dataset.status = over.map((x) => x.status || "none").join(" ");
      const filled = over.filter((x) => x.status !== "fn" && x.status !== "ctx");
      if (filled.length) seg.style.backgroundColor = typeColours(filled[filled.length - 1].type)[0];
      const shadows = [];
      over.slice().reverse().forEach((x, k) => {
        const colour = m.scored && x.status && STATUS[x.status] ? STATUS[x.status].colour : typeColours(x.type)[1];
        shadows.push(`inset 0 -${3 * (k + 1)}px 0 ${colour}`);
      });
      if (over.some((x) => x.spans.some(([s]) => s === a))) shadows.push("inset 1px 0 0 rgba(0,0,0,0.35)");
      seg.style.boxShadow = shadows.join(", ");
      seg.style.paddingBottom = `${Math.max(0, 3 * over.length - 2)}px`;
      if (over.some((x) => heads.has(x.idx))) seg.classList.add("bv-arg-head");
      if (over.some((x) => tails.has(x.idx))) seg.classList.add("bv-arg-tail");
      if (over.some((x) => x.idx === this.focus)) seg.classList.add("bv-focus");
      if (over.some((x) => x.status === "fn")) seg.classList.add("bv-missed");
      seg.title = over.map((x) => mentionLabel(x)).join("\n");
      seg.addEventListener("click", () => {
        const inner = over[over.length - 1].idx;
        this.focus = this.focus === inner ? null : inner;
        this.selected = null;
        this.refresh();
      });
      for (const x of over) if (!this.firstSeg.has(x.idx)) this.firstSeg.set(x.idx, seg);
      return seg;
    }

    renderTable() {
      const m = this.model, box = this.tableBox;
      box.textContent = "";
      if (!m.relations.length) {
        box.appendChild(el("p", { class: "bv-muted", text: "No relations." }));
        return;
      }
      const rows = m.relations.filter((r) => this.visible(r)).sort(
        (x, y) => (x.gold - y.gold) || ((y.score ?? -1) - (x.score ?? -1)) || x.idx - y.idx,
      );
      const cols = ["type", "head", "tail", "score"].concat(m.scored ? ["status"] : []);
      const thead = el("thead", null, el("tr", null, cols.map((c) => el("th", { scope: "col", text: c }))));
      const tbody = el("tbody");
      const focus = this.focus;
      for (const r of rows) {
        const involved = focus !== null && (r.headMs.some((x) => x.idx === focus) || r.tailMs.some((x) => x.idx === focus));
        const tr = el("tr", {
          class: "bv-rel" + (r.idx === this.selected ? " bv-selected" : "") + (involved ? " bv-involved" : "") + (r.status ? " bv-st-" + r.status : ""),
          tabindex: "0",
          "aria-selected": r.idx === this.selected ? "true" : "false",
          dataset: { rel: String(r.idx), relId: r.id },
          onclick: () => this.select(r.idx),
          onkeydown: (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); this.select(r.idx); } },
        });
        tr.appendChild(el("td", { class: "bv-reltype", text: r.type }));
        tr.appendChild(argCell(r.head));
        tr.appendChild(argCell(r.tail));
        tr.appendChild(el("td", { class: "bv-score", text: fmtScore(r.score) }));
        if (m.scored) tr.appendChild(statusCell(r.status));
        tbody.appendChild(tr);
      }
      if (!rows.length) tbody.appendChild(el("tr", null, el("td", { colspan: String(cols.length), class: "bv-muted", text: "No relation scores at or above the threshold." })));
      box.appendChild(el("table", { class: "bv-relations" }, [el("caption", { text: "Relations (click one to see its arguments and evidence)" }), thead, tbody]));
    }

    renderDetails() {
      const m = this.model, box = this.details;
      box.textContent = "";
      if (this.focus !== null) {
        const x = m.mentions[this.focus];
        const n = m.relations.filter((r) => r.headMs.includes(x) || r.tailMs.includes(x)).length;
        box.appendChild(el("p", null, [el("strong", { text: "Mention: " }), mentionLabel(x), ` — in ${n} relation(s)`]));
        return;
      }
      if (this.selected === null) {
        box.appendChild(el("p", { class: "bv-muted", text: "Click a relation to highlight its head, tail and evidence; click a mention for its details." }));
        return;
      }
      const r = m.relations[this.selected];
      const arrow = r.directed ? " → " : " — ";
      box.appendChild(el("p", { class: "bv-selected-rel" }, [
        el("strong", { text: r.type }), ": ",
        el("span", { class: "bv-head-name", text: r.head.name }), arrow,
        el("span", { class: "bv-tail-name", text: r.tail.name }),
        `  (score ${fmtScore(r.score)}${r.status ? ", " + (STATUS[r.status] ? STATUS[r.status].label : r.status) : ""}${r.gold ? ", gold" : ""})`,
      ]));
      if (!r.headMs.length || !r.tailMs.length) box.appendChild(el("p", { class: "bv-muted", text: "An argument has no mention in the text." }));
      if (r.evidence.length) {
        const list = el("ol", { class: "bv-evidence" });
        for (const [a, b] of r.evidence) list.appendChild(el("li", { text: m.text.slice(a, b) }));
        box.appendChild(el("div", null, [el("strong", { text: `Evidence (${r.evidence.length} sentence${r.evidence.length === 1 ? "" : "s"})` }), list]));
      } else {
        box.appendChild(el("p", { class: "bv-muted", text: "This relation carries no evidence sentences." }));
      }
      if (r.attributions.length) {
        const top = r.attributions.filter((x) => x[2] >= 0.005).sort((x, y) => y[2] - x[2]).slice(0, 8);
        box.appendChild(el("p", { class: "bv-attributions" }, [
          el("strong", { text: "Most attributed tokens: " }),
          top.map(([a, b, w]) => `${m.text.slice(a, b)} (${w.toFixed(2)})`).join(", ") + (r.attributions.length > top.length ? ` (${r.attributions.length} tokens in all)` : ""),
        ]));
      }
    }

    drawArcs() {
      const svg = this.svg, m = this.model;
      if (!svg || !m || !this.textWrap.isConnected) return;
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      const wrap = this.textWrap;
      svg.setAttribute("width", String(wrap.scrollWidth));
      svg.setAttribute("height", String(wrap.scrollHeight));
      const rels = this.allArcs ? m.relations.filter((r) => this.visible(r)) : [];
      if (this.selected !== null && !rels.includes(m.relations[this.selected])) rels.push(m.relations[this.selected]);
      if (!rels.length) return;
      const markerId = `bv-arrow-${this.uid}`;
      const defs = svgEl("defs");
      const marker = svgEl("marker", { id: markerId, viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
      marker.appendChild(svgEl("path", { d: "M0,0 L10,5 L0,10 z", class: "bv-arrowhead" }));
      defs.appendChild(marker);
      svg.appendChild(defs);
      const base = wrap.getBoundingClientRect();
      const point = (x) => {
        const seg = this.firstSeg.get(x.idx);
        const rect = seg && seg.getClientRects()[0];
        return rect ? { x: rect.left - base.left + rect.width / 2, y: rect.top - base.top + 2 } : null;
      };
      for (const r of rels) {
        let best = null;
        for (const h of r.headMs) for (const t of r.tailMs) {
          if (h === t) continue;
          const d = Math.abs(h.start - t.start);
          if (!best || d < best.d) best = { h, t, d };
        }
        if (!best) continue;
        const p = point(best.h), q = point(best.t);
        if (!p || !q) continue;
        const lift = 16 + Math.min(26, Math.abs(q.x - p.x) / 14);
        const selected = r.idx === this.selected;
        const path = svgEl("path", {
          d: `M${p.x},${p.y} C${p.x},${p.y - lift} ${q.x},${q.y - lift} ${q.x},${q.y}`,
          class: "bv-arc" + (selected ? " bv-arc-selected" : "") + (r.status ? " bv-arc-" + r.status : ""),
        });
        if (r.directed) path.setAttribute("marker-end", `url(#${markerId})`);
        svg.appendChild(path);
        const label = svgEl("text", { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 - 0.75 * lift - 2, class: "bv-arc-label" + (selected ? " bv-arc-selected" : "") });
        label.textContent = r.type + (r.score !== null ? " " + r.score.toFixed(2) : "");
        svg.appendChild(label);
      }
    }
  }

  function mentionLabel(x) {
    const ids = (x.raw.concept_ids || []).join("|");
    const score = x.raw.infons && typeof x.raw.infons.score === "number" ? ` score ${x.raw.infons.score.toFixed(3)}` : "";
    const st = x.status && STATUS[x.status] ? ` — ${STATUS[x.status].label}` : "";
    return `${x.type}: “${x.text}”${ids ? " [" + ids + "]" : ""}${score}${x.gold ? " (gold)" : ""}${st}`;
  }

  function argCell(arg) {
    const [bg, fg] = typeColours(arg.type);
    const name = el("span", { class: "bv-argname", text: arg.name, title: `${arg.type} ${arg.ref}` });
    name.style.backgroundColor = bg;
    name.style.boxShadow = `inset 0 -2px 0 ${fg}`;
    return el("td", null, name);
  }

  function statusCell(status) {
    const s = STATUS[status];
    const pill = el("span", { class: "bv-pill", text: status || "", title: s ? s.label : "", dataset: { status: status || "" } });
    if (s) pill.style.backgroundColor = s.colour;
    return el("td", null, pill);
  }

  function countsLine(counts) {
    const parts = [];
    for (const [what, c] of Object.entries(counts)) {
      if (!c) continue;
      parts.push(el("span", { class: "bv-counts", dataset: { what } }, [
        `${what}: `, countPill("tp", c[0]), countPill("fp", c[1]), countPill("fn", c[2]),
      ]));
    }
    return el("div", { class: "bv-countsline" }, parts);
  }

  function countPill(kind, n) {
    const pill = el("span", { class: "bv-pill", text: `${kind.toUpperCase()} ${n}`, dataset: { status: kind, n: String(n) } });
    pill.style.backgroundColor = STATUS[kind].colour;
    return pill;
  }

  // ---- a list of documents with search, beside one DocumentView -------------------------------------
  const LIST_LIMIT = 1000;

  class DocBrowser {
    constructor(root, docs, options) {
      this.root = root;
      this.docs = docs;
      this.options = options || {};
      this.current = 0;
      root.textContent = "";
      this.search = el("input", { type: "search", class: "bv-search", placeholder: "search id, text or entity", "aria-label": "search documents", oninput: () => this.renderList() });
      this.errorsOnly = el("input", { type: "checkbox", class: "bv-errors-only", onchange: () => this.renderList() });
      this.list = el("ol", { class: "bv-doclist" });
      this.listInfo = el("p", { class: "bv-muted bv-listinfo" });
      const scored = docs.some((d) => d.counts);
      const side = el("aside", { class: "bv-side" }, [
        this.search,
        scored ? el("label", { class: "bv-errors-label" }, [this.errorsOnly, " only documents with errors"]) : null,
        this.listInfo, this.list,
      ]);
      this.viewBox = el("section", { class: "bv-main" });
      this.view = new DocumentView(this.viewBox, { threshold: this.options.threshold ?? 0 });
      root.append(side, this.viewBox);
      root.classList.add("bv-browser");
      if (docs.length <= 1) root.classList.add("bv-single");
      this.haystacks = docs.map((d) => (String(d.id) + "\n" + documentText(d) + "\n" + (d.entities || []).map((e) => e.name || "").join("\n")).toLowerCase());
      this.renderList();
      const fromHash = this.indexFromHash();
      this.show(fromHash !== null ? fromHash : 0);
      window.addEventListener("hashchange", () => { const i = this.indexFromHash(); if (i !== null && i !== this.current) this.show(i); });
    }

    indexFromHash() {
      const m = /^#doc=(.*)$/.exec(window.location.hash || "");
      if (!m) return null;
      const id = decodeURIComponent(m[1]);
      const i = this.docs.findIndex((d) => String(d.id) === id);
      return i >= 0 ? i : null;
    }

    matches(i) {
      const q = this.search.value.trim().toLowerCase();
      if (q && !this.haystacks[i].includes(q)) return false;
      if (this.errorsOnly.checked) {
        const c = this.docs[i].counts || {};
        return Object.values(c).some((x) => x && (x[1] > 0 || x[2] > 0));
      }
      return true;
    }

    renderList() {
      this.list.textContent = "";
      let n = 0, shown = 0;
      for (let i = 0; i < this.docs.length; i++) {
        if (!this.matches(i)) continue;
        n++;
        if (shown >= LIST_LIMIT) continue;
        shown++;
        const d = this.docs[i];
        const title = documentText(d).slice(0, 90);
        const item = el("li", {
          class: "bv-docitem" + (i === this.current ? " bv-current" : ""), tabindex: "0", dataset: { index: String(i), docId: String(d.id) },
          onclick: () => this.show(i),
          onkeydown: (ev) => { if (ev.key === "Enter") this.show(i); },
        }, [el("span", { class: "bv-docitem-id", text: String(d.id) }), el("span", { class: "bv-docitem-title", text: title })]);
        if (d.counts) item.appendChild(countsLine(d.counts));
        this.list.appendChild(item);
      }
      this.listInfo.textContent = n > shown ? `${n} documents match; the first ${shown} are listed (refine the search)` : `${n} of ${this.docs.length} documents`;
    }

    show(i) {
      if (i < 0 || i >= this.docs.length) return;
      this.current = i;
      for (const item of this.list.querySelectorAll(".bv-docitem")) item.classList.toggle("bv-current", Number(item.dataset.index) === i);
      this.view.setDocument(this.docs[i]);
      if (this.docs.length > 1) {
        const hash = "#doc=" + encodeURIComponent(String(this.docs[i].id));
        if (window.location.hash !== hash) history.replaceState(null, "", hash);
      }
    }
  }

  // ---- biorel view: the corpus page -----------------------------------------------------------------
  function summaryTable(scoring) {
    const rows = [];
    for (const [what, s] of Object.entries(scoring)) {
      const [tp, fp, fn] = s.total;
      const p = tp + fp ? tp / (tp + fp) : 0, r = tp + fn ? tp / (tp + fn) : 0, f = p + r ? (2 * p * r) / (p + r) : 0;
      const settings = Object.entries(s.settings || {}).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
      rows.push(el("tr", { dataset: { what } }, [
        el("th", { scope: "row", text: what }), el("td", { text: s.protocol, title: settings }),
        el("td", { class: "bv-n", text: String(tp) }), el("td", { class: "bv-n", text: String(fp) }), el("td", { class: "bv-n", text: String(fn) }),
        el("td", { class: "bv-n", text: p.toFixed(4) }), el("td", { class: "bv-n", text: r.toFixed(4) }), el("td", { class: "bv-n", text: f.toFixed(4) }),
      ]));
      for (const [type, c] of Object.entries(s.per_type || {})) {
        if (Object.keys(s.per_type).length < 2) break;
        rows.push(el("tr", { class: "bv-subrow" }, [
          el("th", { scope: "row", text: "  " + type }), el("td"),
          el("td", { class: "bv-n", text: String(c[0]) }), el("td", { class: "bv-n", text: String(c[1]) }), el("td", { class: "bv-n", text: String(c[2]) }),
          el("td"), el("td"), el("td"),
        ]));
      }
    }
    const head = el("tr", null, ["", "protocol", "TP", "FP", "FN", "precision", "recall", "F1"].map((c) => el("th", { scope: "col", text: c })));
    return el("table", { class: "bv-summary" }, [el("caption", { text: "Totals (biorel's scorer, as biorel evaluate --lenient)" }), el("thead", null, head), el("tbody", null, rows)]);
  }

  function initCorpus(data) {
    const app = document.getElementById("bv-app");
    app.textContent = "";
    if (data.scoring) app.appendChild(summaryTable(data.scoring));
    if (data.notes && data.notes.length) {
      const list = el("ul", { class: "bv-notes" }, data.notes.map((n) => el("li", { text: n })));
      app.appendChild(el("details", { class: "bv-notesbox" }, [el("summary", { text: `${data.notes.length} input problem(s), counted as the lenient scorer counts them` }), list]));
    }
    const browserRoot = el("div");
    app.appendChild(browserRoot);
    if (!data.documents.length) {
      browserRoot.appendChild(el("p", { class: "bv-muted", text: "The corpus holds no documents." }));
      return null;
    }
    return new DocBrowser(browserRoot, data.documents, { threshold: 0 });
  }

  // ---- the biorel serve page ------------------------------------------------------------------------
  const SAMPLE_ABSTRACT =
    "Acute kidney injury after high-dose cisplatin in a woman with ovarian cancer.\n" +
    "A 58-year-old woman with ovarian cancer received cisplatin and paclitaxel. Eight days later her serum " +
    "creatinine had tripled and acute kidney injury was diagnosed. Cisplatin was withdrawn and renal function " +
    "recovered within three weeks. Haloperidol given for agitation during the admission caused no dystonia. " +
    "Cisplatin nephrotoxicity should be monitored closely in patients receiving repeated cycles.";

  const REQUEST = { threshold: 0.05 };

  /** The evidence settings of a request from the evidence menu: auto (the
   * model's attention), occlusion (a word's weight is the score drop when it
   * alone is deleted: faithful, slower) or off. */
  function evidenceParams(choice) {
    if (choice === "off") return { evidence: false };
    return { evidence: true, evidence_method: choice || "auto" };
  }

  function requestQuery(extra, choice) {
    const ev = evidenceParams(choice);
    const q = new URLSearchParams(Object.assign({ threshold: String(REQUEST.threshold), evidence: String(ev.evidence) }, extra));
    if (ev.evidence) q.set("evidence_method", ev.evidence_method);
    return q;
  }

  /** The /v1/extract/{format} of a file, from its name (and first line for .txt). */
  function formatForFile(name, head) {
    const n = String(name || "").toLowerCase();
    if (n.endsWith(".xml")) return "bioc-xml";
    if (n.endsWith(".jsonl") || n.endsWith(".ndjson")) return "jsonl";
    if (n.endsWith(".json")) return "bioc-json";
    if (n.endsWith(".pubtator") || n.includes("pubtator")) return "pubtator";
    if (/^[^\s|]+\|[ta]\|/.test(String(head || ""))) return "pubtator";
    return "text";
  }

  function describeError(status, body, fallback) {
    const e = body && body.error;
    if (e && typeof e === "object") {
      let out = `${e.code ? e.code + ": " : ""}${e.message || fallback} (HTTP ${e.status || status})`;
      const loc = e.location;
      if (loc && typeof loc === "object") {
        const where = ["source", "line", "path", "offset"].filter((k) => loc[k] !== undefined && loc[k] !== null).map((k) => `${k} ${loc[k]}`);
        if (where.length) out += `\nat ${where.join(", ")}`;
      }
      for (const d of Array.isArray(e.details) ? e.details.slice(0, 5) : []) {
        out += `\n- ${Array.isArray(d.loc) ? d.loc.join(".") + ": " : ""}${d.msg || JSON.stringify(d)}`;
      }
      return out;
    }
    return `${fallback} (HTTP ${status})`;
  }

  async function readJson(resp) {
    const text = await resp.text();
    try { return JSON.parse(text); } catch (_) { return { _text: text }; }
  }

  function describeModels(body) {
    const list = Array.isArray(body) ? body : Array.isArray(body && body.models) ? body.models : body && body.data ? body.data : null;
    if (list) return list.map((m) => (typeof m === "string" ? m : m.name || m.id || JSON.stringify(m))).join(", ");
    if (body && body.model) return typeof body.model === "string" ? body.model : body.model.name || JSON.stringify(body.model);
    return "";
  }

  function initServer() {
    const $ = (id) => document.getElementById(id);
    const input = $("bv-input"), statusBox = $("bv-status"), errorBox = $("bv-error"), results = $("bv-results");
    const fileInput = $("bv-file"), drop = $("bv-drop"), formatSel = $("bv-format"), evidenceSel = $("bv-evidence"), downloads = $("bv-downloads"), modelBox = $("bv-model");
    let last = null; // {path, body, contentType}
    let result = null;
    let browser = null;

    function setBusy(busy, message) {
      for (const b of document.querySelectorAll(".bv-actions button")) b.disabled = busy;
      statusBox.textContent = message || "";
      document.body.classList.toggle("bv-busy", busy);
    }
    function showError(message) {
      errorBox.textContent = message;
      errorBox.hidden = !message;
    }

    async function post(path, body, contentType) {
      const resp = await fetch(path, { method: "POST", headers: { "Content-Type": contentType, Accept: "application/json" }, body });
      const data = await readJson(resp);
      if (!resp.ok) throw new Error(describeError(resp.status, data, resp.statusText || "request failed"));
      if (!data || !Array.isArray(data.documents)) throw new Error("The server's answer holds no documents.");
      return data;
    }

    async function run(request) {
      showError("");
      setBusy(true, "Extracting…");
      const t0 = performance.now();
      try {
        result = await post(request.path, request.body, request.contentType);
        last = request;
        const n = result.documents.length;
        const rels = result.documents.reduce((a, d) => a + (d.relations || []).length, 0);
        const ents = result.documents.reduce((a, d) => a + (d.mentions || []).length, 0);
        setBusy(false, `${n} document${n === 1 ? "" : "s"}, ${ents} mentions, ${rels} relations (score ≥ ${REQUEST.threshold}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        results.hidden = false;
        downloads.hidden = false;
        browser = new DocBrowser(results, result.documents, { threshold: 0.5 });
        window.biorelResult = result;
      } catch (e) {
        setBusy(false, "");
        showError(e instanceof TypeError ? `Cannot reach the biorel server: ${e.message}` : e.message);
      }
      return browser;
    }

    function extractText() {
      const text = input.value;
      if (!text.trim()) { showError("Paste some text first (or load the sample abstract)."); return null; }
      return run({
        path: "v1/extract",
        body: JSON.stringify(Object.assign({ text, id: "pasted", threshold: REQUEST.threshold }, evidenceParams(evidenceSel && evidenceSel.value))),
        contentType: "application/json",
        raw: { format: "text", body: text, pasted: true },
      });
    }

    async function extractFile(file) {
      if (!file) return;
      const body = await file.text();
      const fmt = formatSel.value === "auto" ? formatForFile(file.name, body.slice(0, 200)) : formatSel.value;
      statusBox.textContent = `${file.name}: ${fmt}`;
      const types = { "bioc-xml": "application/xml", "bioc-json": "application/json", jsonl: "application/x-ndjson" };
      const query = requestQuery({ output: "json" }, evidenceSel && evidenceSel.value);
      return run({
        path: `v1/extract/${encodeURIComponent(fmt)}?${query}`,
        body, contentType: types[fmt] || "text/plain; charset=utf-8",
        raw: { format: fmt, body, name: file.name },
      });
    }

    function save(blob, name) {
      const a = el("a", { href: URL.createObjectURL(blob), download: name });
      document.body.appendChild(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }

    async function download(kind) {
      if (!result) return;
      if (kind === "json") {
        save(new Blob([JSON.stringify(result, null, 2)], { type: "application/json" }), "biorel-result.json");
        return;
      }
      // BioC: the server writes it from the same input and settings
      const raw = last.raw;
      const query = requestQuery({ output: kind }, evidenceSel && evidenceSel.value);
      if (raw.pasted) query.set("split", "file"); // the pasted text is one document, as /v1/extract reads it
      showError("");
      setBusy(true, "Asking the server for " + kind + "…");
      try {
        const resp = await fetch(`v1/extract/${encodeURIComponent(raw.format)}?${query}`, { method: "POST", headers: { "Content-Type": "text/plain; charset=utf-8" }, body: raw.body });
        if (!resp.ok) throw new Error(describeError(resp.status, await readJson(resp), resp.statusText || "request failed"));
        save(await resp.blob(), kind === "bioc-xml" ? "biorel-result.bioc.xml" : "biorel-result.bioc.json");
        setBusy(false, "");
      } catch (e) {
        setBusy(false, "");
        showError(e instanceof TypeError ? `Cannot reach the biorel server: ${e.message}` : e.message);
      }
    }

    $("bv-sample").addEventListener("click", () => { input.value = SAMPLE_ABSTRACT; input.focus(); });
    $("bv-extract").addEventListener("click", () => extractText());
    input.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) extractText(); });
    fileInput.addEventListener("change", () => extractFile(fileInput.files[0]));
    for (const name of ["dragenter", "dragover"]) drop.addEventListener(name, (ev) => { ev.preventDefault(); drop.classList.add("bv-dragging"); });
    for (const name of ["dragleave", "drop"]) drop.addEventListener(name, () => drop.classList.remove("bv-dragging"));
    drop.addEventListener("drop", (ev) => { ev.preventDefault(); extractFile(ev.dataTransfer.files[0]); });
    for (const b of downloads.querySelectorAll("button[data-download]")) b.addEventListener("click", () => download(b.dataset.download));

    fetch("v1/models", { headers: { Accept: "application/json" } })
      .then(async (resp) => {
        const body = await readJson(resp);
        if (!resp.ok) throw new Error(describeError(resp.status, body, "cannot list models"));
        const text = describeModels(body);
        modelBox.textContent = text ? "model: " + text : "";
      })
      .catch((e) => { modelBox.textContent = "server not reachable: " + e.message; });

    return { extractText, extractFile };
  }

  // ---- start ----------------------------------------------------------------------------------------
  const api = { prepare, documentText, cut, formatForFile, DocumentView, DocBrowser, initCorpus, initServer, SAMPLE_ABSTRACT };
  window.BiorelView = api;

  function start() {
    const data = document.getElementById("biorel-data");
    if (data) api.app = initCorpus(JSON.parse(data.textContent));
    else if (document.getElementById("bv-input")) api.app = initServer();
    document.body.dataset.ready = "true";
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
