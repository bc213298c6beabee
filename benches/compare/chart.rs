//! A dependency-free SVG bar chart of the comparison: one bar per row, its length the speedup over the
//! peer on a log scale, with the goal marked.

use std::fmt::Write as _;

/// One bar of the chart.
pub struct Bar {
    /// What the bar compares.
    pub label: String,
    /// Peer's time / our time: above 1 we are faster.
    pub speedup: f64,
    /// The speedup the goal asks for, if any.
    pub goal: Option<f64>,
}

const LABEL_W: f64 = 430.0;
const PLOT_W: f64 = 420.0;
const ROW_H: f64 = 22.0;
/// The log scale spans 1/16x .. 16x.
const LOG2_SPAN: f64 = 4.0;

fn x_of(speedup: f64) -> f64 {
    let l = speedup.log2().clamp(-LOG2_SPAN, LOG2_SPAN);
    LABEL_W + (l + LOG2_SPAN) / (2.0 * LOG2_SPAN) * PLOT_W
}

/// Renders the bars as an SVG document.
pub fn svg(bars: &[Bar]) -> String {
    let height = 40.0 + ROW_H * bars.len() as f64 + 30.0;
    let width = LABEL_W + PLOT_W + 80.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(s, r##"<rect width="100%" height="100%" fill="#fff"/>"##);
    let _ = write!(
        s,
        r#"<text x="10" y="20" font-size="14" font-weight="bold">omnibuf vs peers: speedup (peer time / our time, log scale; | = goal; grey = no goal)</text>"#
    );
    for tick in [-4i32, -2, -1, 0, 1, 2, 4] {
        let x = x_of(2f64.powi(tick));
        let _ = write!(
            s,
            r##"<line x1="{x}" y1="32" x2="{x}" y2="{y2}" stroke="{c}"/><text x="{x}" y="{ty}" text-anchor="middle">{label}x</text>"##,
            y2 = height - 25.0,
            c = if tick == 0 { "#333" } else { "#ddd" },
            ty = height - 10.0,
            label = if tick >= 0 { format!("{}", 1u32 << tick) } else { format!("1/{}", 1u32 << -tick) },
        );
    }
    for (i, bar) in bars.iter().enumerate() {
        let y = 40.0 + ROW_H * i as f64;
        let (x0, x1) = (x_of(1.0), x_of(bar.speedup));
        // Green: goal met; red: goal missed; grey: shown for information, no goal.
        let fill = match bar.goal {
            None => "#999",
            Some(g) if bar.speedup >= g => "#4a8",
            Some(_) => "#d64",
        };
        let _ = write!(
            s,
            r##"<text x="{lx}" y="{ty}" text-anchor="end">{label}</text><rect x="{rx}" y="{y}" width="{w}" height="{h}" fill="{fill}"/><text x="{vx}" y="{ty}">{v:.2}x</text>"##,
            lx = LABEL_W - 8.0,
            ty = y + 14.0,
            label = escape(&bar.label),
            rx = x0.min(x1),
            w = (x1 - x0).abs().max(1.0),
            h = ROW_H - 6.0,
            fill = fill,
            vx = x0.max(x1) + 4.0,
            v = bar.speedup,
        );
        if let Some(goal) = bar.goal {
            let gx = x_of(goal);
            let _ = write!(
                s,
                r##"<line x1="{gx}" y1="{y}" x2="{gx}" y2="{y2}" stroke="#000" stroke-width="2"/>"##,
                y2 = y + ROW_H - 6.0
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
