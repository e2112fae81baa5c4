// mptcp sim: the HTML report (adapters/sim/report.ts) is one well-formed, self-contained file
// with three SVG charts, one line per subflow and the events marked.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Experiment } from "../../adapters/sim/runner.ts";
import { parseEvent, parsePaths } from "../../adapters/sim/spec.ts";
import { lineChart, renderReport } from "../../adapters/sim/report.ts";

const VOID = new Set(["meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"]);

/** Checks that every element is closed in order (XML-like; HTML void elements excepted). Returns the element names seen. */
function checkTags(doc: string, html: boolean): string[] {
  const stack: string[] = [];
  const seen: string[] = [];
  const body = doc.replace(/<!DOCTYPE[^>]*>/i, "");
  const re = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_:][a-zA-Z0-9_:.-]*(?:="[^"]*")?)*)\s*(\/?)>/g;
  // Text between tags must not contain a raw "<" (escaped content).
  const stripped = body.replace(re, "");
  assert.doesNotMatch(stripped, /</, "a '<' outside a tag: unescaped text or a malformed tag");
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null) {
    const [, close, name, , self] = m;
    const n = name!.toLowerCase();
    if (close) {
      const top = stack.pop();
      assert.equal(top, n, `</${n}> closes <${top}>`);
    } else if (self || (html && VOID.has(n))) {
      seen.push(n);
    } else {
      stack.push(n);
      seen.push(n);
    }
  }
  assert.deepEqual(stack, [], "unclosed elements");
  return seen;
}

describe("sim report", () => {
  const paths = parsePaths("wifi:rate=20Mbit,delay=10ms,loss=0.1%;lte:rate=10Mbit,delay=30ms");
  const names = paths.map((p) => p.name);
  const events = ["1s:wifi:loss=5%", "2s:wifi:down", "3s:wifi:up"].map((e) => parseEvent(e, names));
  const result = new Experiment({ paths, events, seconds: 4, seed: 1 }).runToEnd();
  const html = renderReport(result, { title: "test <report> & co" });

  test("a well-formed HTML document with three SVG charts", () => {
    assert.match(html, /^<!DOCTYPE html>\n<html lang="en">/);
    const tags = checkTags(html, true);
    assert.equal(tags.filter((t) => t === "svg").length, 3);
    for (const svg of html.match(/<svg[\s\S]*?<\/svg>/g)!) checkTags(svg, false); // each chart is well-formed XML too
    assert.match(html, /<title>test &lt;report&gt; &amp; co<\/title>/, "text is escaped");
  });

  test("self-contained: no script, no external resource", () => {
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|\bsrc=|\bhref=|url\(|@import/i);
    const urls = html.match(/https?:\/\/[^\s"']+/g) ?? [];
    assert.deepEqual([...new Set(urls)], ["http://www.w3.org/2000/svg"], "only the SVG namespace");
  });

  test("one line per subflow in each chart, and the path events marked on each", () => {
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g)!;
    for (const svg of svgs) {
      for (const n of names) assert.match(svg, new RegExp(`<path d="M[^"]+" fill="none" stroke="#[0-9a-f]{6}" stroke-width="1.8"><title>${n}</title>`), n);
      assert.equal((svg.match(/class="ev"/g) ?? []).length, 3, "three path events");
      assert.match(svg, /wifi: loss 5%/);
      assert.match(svg, /wifi: down/);
    }
    assert.match(svgs[0]!, /<title>goodput \(app\)<\/title>/);
    assert.match(svgs[0]!, new RegExp(`class="band"><title>longest stall: ${result.summary.maxStallMs.toFixed(0)} ms without delivery`), "the longest stall is shaded");
    // The summary and the phases table are there.
    assert.match(html, /goodput<b>[\d.]+ Mbit\/s<\/b>/);
    assert.equal((html.match(/<tr><td>\d+–\d+ s<\/td>/g) ?? []).length, 4, "four phases");
  });

  test("a chart leaves a gap where a subflow does not exist", () => {
    const svg = lineChart({ title: "t", unit: "u", tS: [1, 2, 3, 4], endS: 4, lines: [{ name: "x", color: "#000000", values: [1, 2, null, 4] }], events: [] });
    const d = /<path d="([^"]+)" fill="none"/.exec(svg)![1]!;
    assert.equal((d.match(/M/g) ?? []).length, 2, d);
    assert.equal((d.match(/L/g) ?? []).length, 1, d);
  });
});
