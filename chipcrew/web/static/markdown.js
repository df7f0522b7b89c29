/* A small markdown renderer for the crew's answers: escape first, then add our own tags.
 * Every character of the input is HTML-escaped before any markup is recognised, so text from a model, a tool or
 * a file name can only ever produce the tags written below (p, br, strong, em, code, pre, h3-h6, ul, ol, li, table).
 * Handled: tables with a --- separator row (right-aligned when ---:), #-headings, - / * / 1. lists, ``` fences,
 * `code`, **bold**, *italic*. No links, images or raw HTML. */
(function (global) {
  "use strict";
  const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function escapeHtml(text) { return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]); }

  function inline(escaped) {
    // code spans first, kept out of the bold/italic rules by placeholders (NUL never survives escaping input)
    const spans = [];
    let out = escaped.replace(/`([^`]+)`/g, (_, code) => { spans.push(code); return "\u0000" + (spans.length - 1) + "\u0000"; });
    out = out.replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>").replace(/(^|[\s(])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>");
    return out.replace(/\u0000(\d+)\u0000/g, (_, i) => "<code>" + spans[Number(i)] + "</code>");
  }

  function cells(line) {
    let row = line.trim();
    if (row.startsWith("|")) row = row.slice(1);
    if (row.endsWith("|")) row = row.slice(0, -1);
    return row.split("|").map((c) => c.trim());
  }

  const SEPARATOR = /^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

  function table(lines) {
    const head = cells(lines[0]);
    const right = cells(lines[1]).map((c) => c.endsWith(":"));
    let html = "<table><thead><tr>" + head.map((c) => "<th>" + inline(c) + "</th>").join("") + "</tr></thead><tbody>";
    for (const line of lines.slice(2)) {
      html += "<tr>" + cells(line).map((c, i) => (right[i] ? '<td class="num">' : "<td>") + inline(c) + "</td>").join("") + "</tr>";
    }
    return html + "</tbody></table>";
  }

  function render(text) {
    const lines = escapeHtml(text == null ? "" : text).replace(/\r\n?/g, "\n").split("\n");
    const out = [];
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (/^```/.test(line)) {
        const body = [];
        for (i += 1; i < lines.length && !/^```/.test(lines[i]); i += 1) body.push(lines[i]);
        out.push("<pre><code>" + body.join("\n") + "</code></pre>");
        i += 1;
      } else if (line.trim().startsWith("|") && i + 1 < lines.length && SEPARATOR.test(lines[i + 1])) {
        const rows = [line, lines[i + 1]];
        for (i += 2; i < lines.length && lines[i].trim().startsWith("|"); i += 1) rows.push(lines[i]);
        out.push(table(rows));
      } else if (/^#{1,4}\s/.test(line)) {
        const level = line.match(/^#+/)[0].length + 2;
        out.push("<h" + level + ">" + inline(line.replace(/^#+\s*/, "")) + "</h" + level + ">");
        i += 1;
      } else if (/^\s*([-*]|\d+\.)\s+/.test(line)) {
        const ordered = /^\s*\d+\./.test(line);
        const items = [];
        for (; i < lines.length && /^\s*([-*]|\d+\.)\s+/.test(lines[i]); i += 1) {
          items.push("<li>" + inline(lines[i].replace(/^\s*([-*]|\d+\.)\s+/, "")) + "</li>");
        }
        out.push((ordered ? "<ol>" : "<ul>") + items.join("") + (ordered ? "</ol>" : "</ul>"));
      } else if (!line.trim()) {
        i += 1;
      } else {
        const para = [];
        for (; i < lines.length && lines[i].trim() && !/^(```|#{1,4}\s|\s*([-*]|\d+\.)\s+|\s*\|)/.test(lines[i]); i += 1) {
          para.push(inline(lines[i]));
        }
        if (!para.length) { para.push(inline(lines[i])); i += 1; }
        out.push("<p>" + para.join("<br>") + "</p>");
      }
    }
    return out.join("\n");
  }

  global.ChipMarkdown = { render: render, escapeHtml: escapeHtml };
})(window);
