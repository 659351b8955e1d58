//! The report as one self-contained HTML page (inline CSS, no scripts, no external assets).

use std::fmt::Write as _;

use super::gather::RunReport;
use super::markdown::outcome;
use super::pass_diffs::pass_heading;

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ddd}h3{font-family:monospace}\
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .6em;text-align:right}\
td:first-child,th:first-child{text-align:left}pre{background:#f6f8fa;padding:.8em;overflow:auto}\
.add{color:#116329;background:#dafbe1;display:block}.del{color:#82071e;background:#ffebe9;display:block}\
.hunk{color:#6f42c1;display:block}.tag{display:inline-block;padding:0 .5em;border-radius:3px;font-size:.85em}\
.applied{background:#dafbe1}.queued{background:#fff8c5}.proposed,.conflict,.restored{background:#ddf4ff}.failed,.rejected{background:#ffebe9}\
.unchanged,.pending{background:#eee}";

fn diff_html(diff: &str) -> String {
    let mut out = String::new();
    for line in diff.lines() {
        let class = if line.starts_with("+++") || line.starts_with("---") {
            ""
        } else if line.starts_with('+') {
            "add"
        } else if line.starts_with('-') {
            "del"
        } else if line.starts_with("@@") {
            "hunk"
        } else {
            ""
        };
        if class.is_empty() {
            let _ = writeln!(out, "{}", escape(line));
        } else {
            let _ = write!(out, "<span class=\"{class}\">{}</span>", escape(line));
        }
    }
    out
}

/// Renders the report.
pub fn render(report: &RunReport) -> String {
    let run = &report.run;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Noctune run {}</title><style>{STYLE}</style></head><body>",
        escape(run.run_id.as_str())
    );
    let _ = write!(
        out,
        "<h1>Noctune run <code>{}</code></h1><p>Status <b>{}</b>{} · pack {} · {} files · repository <code>{}</code></p>",
        escape(run.run_id.as_str()),
        run.status,
        run.error
            .as_ref()
            .map(|e| format!(" ({})", escape(e)))
            .unwrap_or_default(),
        escape(run.pack.as_deref().unwrap_or("-")),
        report.files.len(),
        escape(&run.repo_root.display().to_string())
    );
    for model in &report.models {
        let _ = write!(
            out,
            "<p>Model <code>{}</code> at {}: {}</p>",
            escape(&model.model),
            escape(&model.base_url),
            escape(&model.summary())
        );
    }
    if let Some(task) = &report.task {
        out.push_str("<h2>Request</h2><pre>");
        for line in task.lines() {
            let _ = writeln!(out, "{}", escape(&line));
        }
        out.push_str("</pre>");
    }
    if !report.stages.is_empty() {
        out.push_str("<h2>Model time and tokens</h2><table><tr><th>stage</th><th>calls</th><th>seconds</th><th>prompt tokens</th><th>answer tokens</th></tr>");
        for (stage, s) in &report.stages {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td></tr>",
                escape(stage),
                s.calls,
                s.llm_ms as f64 / 1000.0,
                s.prompt_tokens,
                s.completion_tokens
            );
        }
        out.push_str("</table>");
    }
    if let Some(endpoints) = &report.endpoints {
        out.push_str("<h2>Model endpoints</h2><table><tr>");
        for cell in super::EndpointsReport::HEADER {
            let _ = write!(out, "<th>{cell}</th>");
        }
        out.push_str("</tr>");
        for row in endpoints.rows() {
            out.push_str("<tr>");
            for cell in row {
                let _ = write!(out, "<td>{}</td>", escape(&cell));
            }
            out.push_str("</tr>");
        }
        let _ = write!(out, "</table><p>{}</p>", escape(&endpoints.summary()));
        if !endpoints.changes.is_empty() {
            out.push_str("<ul>");
            for change in &endpoints.changes {
                let _ = write!(out, "<li>{}</li>", escape(change));
            }
            out.push_str("</ul>");
        }
    }
    out.push_str("<h2>Files</h2>");
    for file in &report.files {
        let word = outcome(file);
        let _ = write!(
            out,
            "<h3>{} <span class=\"tag {word}\">{word}</span></h3><ul>",
            escape(&file.file.display().to_string())
        );
        if let Some(why) = &file.why {
            let _ = write!(out, "<li>why: {}</li>", escape(why));
        }
        if let Some(reason) = &file.approver_reason {
            let _ = write!(
                out,
                "<li>approver: {} (risk {:.2})</li>",
                escape(reason),
                file.risk.unwrap_or(0.0)
            );
        }
        for signal in &file.signals {
            let _ = write!(
                out,
                "<li>signal {:?} in <code>{}</code>: {}</li>",
                signal.kind,
                escape(&signal.symbol),
                escape(&signal.detail)
            );
        }
        if !file.repaired_by.is_empty() {
            let _ = write!(
                out,
                "<li>repaired by: {}</li>",
                escape(&file.repaired_by.join(", "))
            );
        }
        out.push_str("</ul>");
        if let Some(errors) = &file.gate_errors {
            let _ = write!(out, "<p>Gate errors:</p><pre>{}</pre>", escape(errors));
        }
        for (index, diff) in file.diffs.iter().enumerate() {
            if let Some(heading) = pass_heading(file, index) {
                let _ = write!(out, "<p>{heading}:</p>");
            }
            let _ = write!(out, "<pre>{}</pre>", diff_html(&diff.diff));
        }
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn diff_lines_are_classed_and_escaped() {
        let html = diff_html("--- a\n+++ b\n@@ -1 +1 @@\n-x < 1\n+x <= 1\n");
        assert!(
            html.contains("<span class=\"del\">-x &lt; 1</span>"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"add\">+x &lt;= 1</span>"),
            "{html}"
        );
    }
}
