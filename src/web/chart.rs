//! Server-rendered SVG line charts (no script, nothing from elsewhere). The SVG holds only numbers and
//! the axis labels it is given; names go in the page's HTML legend beside it.

use std::fmt::Write;

/// Colours for series in order; the legend uses the same.
pub const COLORS: [&str; 6] = ["#0b5cad", "#b35900", "#1a7f37", "#8250df", "#a40e26", "#57606a"];

pub struct Series {
    /// (x, y) in ascending x.
    pub points: Vec<(i64, i64)>,
    pub color: &'static str,
}

const W: f64 = 640.0;
const H: f64 = 200.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 8.0;

/// A line chart of `series` with `label(x)` under the first and last x, and 0 and the largest y on the
/// y axis. `title` is the chart's accessible name. Empty input gives an empty chart with its axes.
pub fn lines(series: &[Series], title: &str, label: impl Fn(i64) -> String) -> String {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (x0, x1) = (xs.clone().min().unwrap_or(0), xs.max().unwrap_or(1));
    let y1 = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).max().unwrap_or(0).max(1);
    let span = (x1 - x0).max(1) as f64;
    let px = |x: i64| LEFT + (x - x0) as f64 / span * (W - LEFT - 8.0);
    let py = |y: i64| TOP + (1.0 - y as f64 / y1 as f64) * (H - TOP - BOTTOM);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(title)
    );
    let _ = write!(svg, r#"<path class="axis" fill="none" d="M{LEFT} {TOP}V{b}H{r}"/>"#, b = H - BOTTOM, r = W - 8.0);
    let _ = write!(svg, r#"<text x="{}" y="{}" text-anchor="end">{y1}</text>"#, LEFT - 4.0, TOP + 8.0);
    let _ = write!(svg, r#"<text x="{}" y="{}" text-anchor="end">0</text>"#, LEFT - 4.0, H - BOTTOM);
    if series.iter().any(|s| !s.points.is_empty()) {
        let _ = write!(svg, r#"<text x="{LEFT}" y="{}">{}</text>"#, H - 6.0, escape(&label(x0)));
        let _ = write!(svg, r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#, W - 8.0, H - 6.0, escape(&label(x1)));
    }
    for s in series {
        let pts: Vec<String> = s.points.iter().map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y))).collect();
        match pts.len() {
            0 => {}
            1 => {
                let (x, y) = s.points[0];
                let _ = write!(svg, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#, px(x), py(y), s.color);
            }
            _ => {
                let _ = write!(
                    svg,
                    r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
                    s.color,
                    pts.join(" ")
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_places_its_points_and_escapes_its_words() {
        let s = Series { points: vec![(10, 0), (20, 5), (30, 10)], color: COLORS[0] };
        let svg = lines(&[s], "Growth <of> \"news\"", |x| format!("day {x}"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"aria-label="Growth &lt;of&gt; &quot;news&quot;""#));
        // First point at the left edge and the bottom, last at the right edge and the top.
        assert!(svg.contains(r#"points="48.0,176.0 340.0,92.0 632.0,8.0""#), "{svg}");
        assert!(svg.contains(">day 10<") && svg.contains(">day 30<") && svg.contains(">10</text>"));
        let empty = lines(&[], "nothing", |x| x.to_string());
        assert!(!empty.contains("polyline") && !empty.contains("circle"));
        let one = lines(&[Series { points: vec![(3, 7)], color: COLORS[1] }], "one", |x| x.to_string());
        assert!(one.contains("<circle"));
    }
}
